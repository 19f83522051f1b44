"""The guests' pages over HTTP (SPEC §6.7, §10): the public gallery's shell
answers 200 / 403 with the share window, a result's guest page 200 / 404 / 410
like the result link, and the QR codes decode to the absolute page URLs."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import cv2
import httpx
import numpy as np
import pytest
from sqlalchemy import update

from photochanger.config import Settings
from photochanger.models import Job
from photochanger.models.base import utcnow
from support import SessionFactory, assert_error, booth_fields, configure_slot, echo, make_image

PHOTO_SEEDS = itertools.count(300)


async def done_job(client: httpx.AsyncClient, factory: SessionFactory) -> str:
    await configure_slot(factory, "slot-001", **echo())
    answer = await client.post(
        "/api/ingest/slot-001",
        data=booth_fields(),
        files={"fileToUpload": ("a.jpg", make_image(seed=next(PHOTO_SEEDS)), "image/jpeg")},
    )
    assert answer.status_code == 200, answer.text
    return answer.headers["x-job-id"]


async def expire(factory: SessionFactory, job_id: str) -> None:
    async with factory() as session, session.begin():
        await session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(result_expires_at=utcnow() - timedelta(seconds=1))
        )


def decode_qr(png: bytes) -> str:
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image is not None, "not an image"
    text, points, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert points is not None, "no QR code found"
    return str(text)


def scripts_of(answer: httpx.Response) -> list[str]:
    """The page's script sources; none may be inline (the CSP would block it)."""
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["cache-control"] == "no-cache"
    scripts = re.findall(r'<script [^>]*src="([^"]+)"[^>]*>(.*?)</script>', answer.text, re.S)
    assert scripts
    assert len(scripts) == answer.text.count("<script")
    assert all(not body.strip() for _, body in scripts)
    return [src for src, _ in scripts]


async def test_a_results_qr_code_is_its_guest_page_url_not_the_result(
    client: httpx.AsyncClient, factory: SessionFactory, config: Settings
) -> None:
    job_id = await done_job(client, factory)
    # `/public/results/{job_id:path}` would read `<id>/qr.png` as a job id and
    # answer 404: the QR route is registered before it.
    answer = await client.get(f"/public/results/{job_id}/qr.png")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/png"
    assert "content-disposition" not in answer.headers
    assert decode_qr(answer.content) == f"{config.public_base_url}/r/{job_id}"
    assert config.public_base_url == "http://booth.test"
    # The result link itself still answers the photo.
    result = await client.get(f"/public/results/{job_id}")
    assert result.headers["content-type"] == "image/jpeg"


async def test_the_qr_code_of_an_unknown_or_expired_result_is_refused_like_the_result(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    assert_error(await client.get("/public/results/nope/qr.png"), 404, "result_not_found")
    long_id = "x" * 65
    assert_error(await client.get(f"/public/results/{long_id}/qr.png"), 404, "result_not_found")
    job_id = await done_job(client, factory)
    await expire(factory, job_id)
    assert_error(await client.get(f"/public/results/{job_id}/qr.png"), 410, "result_expired")


async def test_the_guest_page_answers_like_the_result_and_tells_the_script(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    job_id = await done_job(client, factory)
    page = await client.get(f"/r/{job_id}", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert page.status_code == 200
    assert '<html lang="ru" data-page="guest" data-state="ready">' in page.text
    assert any("/js/pages/guest.js" in src for src in scripts_of(page))

    unknown = await client.get("/r/no-such-photo")
    assert unknown.status_code == 404
    assert 'data-page="guest" data-state="not_found"' in unknown.text
    scripts_of(unknown)
    assert (await client.get(f"/r/{'x' * 200}")).status_code == 404

    await expire(factory, job_id)
    expired = await client.get(f"/r/{job_id}")
    assert expired.status_code == 410
    assert 'data-page="guest" data-state="expired"' in expired.text
    scripts_of(expired)


async def test_a_guest_page_whose_file_was_removed_is_expired(
    client: httpx.AsyncClient, factory: SessionFactory, config: Settings
) -> None:
    job_id = await done_job(client, factory)
    async with factory() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    assert job.result_key
    (config.resolved_media_root / job.result_key).unlink()
    assert (await client.get(f"/r/{job_id}")).status_code == 410
    assert_error(await client.get(f"/public/results/{job_id}/qr.png"), 410, "result_expired")


async def test_the_public_gallery_page_follows_the_share_window(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    closed = await client.get("/pubgallery", headers={"Accept-Language": "ru"})
    assert closed.status_code == 403
    assert '<html lang="ru" data-page="pubgallery" data-state="closed">' in closed.text
    assert any("/js/pages/pubgallery.js" in src for src in scripts_of(closed))

    assert (await admin_client.post("/api/gallery/share")).status_code == 200
    shared = await client.get("/pubgallery")
    assert shared.status_code == 200
    assert 'data-page="pubgallery">' in shared.text
    scripts_of(shared)

    assert (await admin_client.delete("/api/gallery/share")).status_code == 200
    assert (await client.get("/pubgallery")).status_code == 403


@pytest.mark.parametrize("shared", [False, True])
async def test_the_gallery_qr_code_is_the_public_page_url_whether_shared_or_not(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, config: Settings, shared: bool
) -> None:
    if shared:
        assert (await admin_client.post("/api/gallery/share")).status_code == 200
    answer = await client.get("/pubgallery/qr.png")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/png"
    assert decode_qr(answer.content) == f"{config.public_base_url}/pubgallery"


async def test_the_guests_pages_and_codes_are_documented_as_public(
    client: httpx.AsyncClient,
) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in ("/pubgallery", "/r/{job_id}", "/pubgallery/qr.png"):
        assert paths[path]["get"]["tags"] == ["public"], path
    assert set(paths["/r/{job_id}"]["get"]["responses"]) >= {"200", "404", "410"}
    assert set(paths["/pubgallery"]["get"]["responses"]) >= {"200", "403"}
    qr = paths["/public/results/{job_id}/qr.png"]["get"]
    assert set(qr["responses"]) >= {"200", "404", "410"}
    assert "image/png" in qr["responses"]["200"]["content"]
