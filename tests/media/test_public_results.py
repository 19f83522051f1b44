"""SPEC §5.2: 200 / 404 / 410 for public result links."""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import signal
from datetime import timedelta

import httpx
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import select, update

from photochanger.config import Settings
from photochanger.models import Job, MediaObject
from photochanger.models.base import utcnow
from support import SessionFactory, booth_fields, configure_slot, echo, make_image

PHOTO_SEEDS = itertools.count(100)


async def ingest(client: httpx.AsyncClient) -> httpx.Response:
    photo = make_image(seed=next(PHOTO_SEEDS))  # a new photo each time, never a re-send
    response = await client.post(
        "/api/ingest/slot-001",
        data=booth_fields(),
        files={"fileToUpload": ("a.jpg", photo, "image/jpeg")},
    )
    assert response.status_code == 200
    return response


async def test_download_is_an_attachment_of_the_result(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    answer = await ingest(client)
    response = await client.get(f"/public/results/{answer.headers['x-job-id']}")
    assert response.status_code == 200
    assert response.content == answer.content
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["content-disposition"].startswith("attachment;")


async def test_job_ids_are_long_and_random(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    ids = {(await ingest(client)).headers["x-job-id"] for _ in range(3)}
    assert len(ids) == 3
    assert all(len(job_id) >= 22 for job_id in ids)  # ≥ 128 bits of urlsafe base64


async def test_unknown_and_unfinished_jobs_are_404(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    for job_id in ("nope", "x" * 500, "..%2F..%2Fetc%2Fpasswd"):
        response = await client.get(f"/public/results/{job_id}")
        assert response.status_code == 404
        assert response.json()["failure_reason"] == "result_not_found"
    await configure_slot(factory, "slot-001", **echo(fail_with="no"))
    failed = await client.post(
        "/api/ingest/slot-001",
        data=booth_fields(),
        files={"fileToUpload": ("a.jpg", make_image(), "image/jpeg")},
    )
    assert failed.status_code == 502
    async with factory() as session:
        job = (await session.scalars(select(Job))).one()
    response = await client.get(f"/public/results/{job.id}")
    assert response.status_code == 404


async def test_expired_result_is_410_and_its_file_removed(
    client: httpx.AsyncClient, factory: SessionFactory, config: Settings
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    job_id = (await ingest(client)).headers["x-job-id"]
    async with factory() as session, session.begin():
        job = await session.get(Job, job_id)
        assert job is not None
        assert job.result_key is not None
        key = job.result_key
        job.result_expires_at = utcnow() - timedelta(seconds=1)
    path = config.resolved_media_root / key
    assert path.is_file()
    response = await client.get(f"/public/results/{job_id}")
    assert response.status_code == 410
    assert response.json()["failure_reason"] == "result_expired"
    assert not path.exists()
    async with factory() as session:
        media = (await session.scalars(select(MediaObject).where(MediaObject.key == key))).one()
        assert media.cleaned_at is not None
    assert (await client.get(f"/public/results/{job_id}")).status_code == 410


async def test_result_whose_file_was_cleaned_is_410(
    client: httpx.AsyncClient, factory: SessionFactory, config: Settings
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    job_id = (await ingest(client)).headers["x-job-id"]
    async with factory() as session, session.begin():
        job = await session.get(Job, job_id)
        assert job is not None
        assert job.result_key
        (config.resolved_media_root / job.result_key).unlink()
        await session.execute(update(MediaObject).values(cleaned_at=utcnow()))
    assert (await client.get(f"/public/results/{job_id}")).status_code == 410


async def test_the_preview_is_a_small_webp_with_the_same_link_rules(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    job_id = (await ingest(client)).headers["x-job-id"]
    response = await client.get(f"/public/results/{job_id}/preview.webp")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    preview = Image.open(io.BytesIO(response.content))
    assert preview.format == "WEBP"
    assert max(preview.size) <= 512

    assert (await client.get("/public/results/nope/preview.webp")).status_code == 404
    async with factory() as session, session.begin():
        await session.execute(
            update(Job).where(Job.id == job_id).values(result_expires_at=utcnow())
        )
    expired = await client.get(f"/public/results/{job_id}/preview.webp")
    assert expired.status_code == 410
    assert expired.json()["failure_reason"] == "result_expired"


async def test_concurrent_first_requests_share_one_preview(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    job_id = (await ingest(client)).headers["x-job-id"]
    answers = await asyncio.gather(
        *(client.get(f"/public/results/{job_id}/preview.webp") for _ in range(4))
    )
    assert [answer.status_code for answer in answers] == [200] * 4
    assert len({answer.content for answer in answers}) == 1
    async with factory() as session:
        previews = (
            await session.scalars(
                select(MediaObject).where(
                    MediaObject.job_id == job_id, MediaObject.kind == "preview"
                )
            )
        ).all()
        job = await session.get(Job, job_id)
    assert len(previews) == 1
    assert job is not None
    assert job.preview_key == previews[0].key
    assert previews[0].expires_at == job.result_expires_at


async def test_a_result_gone_from_the_store_has_no_preview(
    client: httpx.AsyncClient, factory: SessionFactory, config: Settings
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    job_id = (await ingest(client)).headers["x-job-id"]
    async with factory() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    assert job.result_key
    (config.resolved_media_root / job.result_key).unlink()
    response = await client.get(f"/public/results/{job_id}/preview.webp")
    assert response.status_code == 410
    assert response.json()["failure_reason"] == "result_expired"


async def test_a_preview_worker_killed_once_is_replaced(
    app: FastAPI, client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    """The soak found it: after the worker process died once, every later
    preview answered 500 until a restart."""
    await configure_slot(factory, "slot-001", **echo())
    first = (await ingest(client)).headers["x-job-id"]
    assert (await client.get(f"/public/results/{first}/preview.webp")).status_code == 200
    pool = app.state.services.previews._pool  # the worker to kill, as the OOM killer would
    for pid in list(pool._processes):
        os.kill(pid, signal.SIGKILL)

    second = (await ingest(client)).headers["x-job-id"]
    answer = await client.get(f"/public/results/{second}/preview.webp")
    assert answer.status_code == 200
    assert Image.open(io.BytesIO(answer.content)).format == "WEBP"
