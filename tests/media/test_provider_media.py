"""SPEC §4.5: inputs published for providers that fetch by URL — unguessable,
200 until the job's deadline, then 410, 404 for anything else, discarded when
the job ends."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from photochanger.config import Settings
from photochanger.deadline import Deadline
from photochanger.media.provider_media import ProviderMediaPublisher, discard_provider_media
from photochanger.models import MediaObject
from photochanger.models.base import utcnow
from support import SessionFactory, make_image, pending_job

BASE = "http://booth.test"


async def new_job(factory: SessionFactory, job_id: str = "job-provider-media") -> str:
    async with factory() as session, session.begin():
        session.add(pending_job(job_id))
    return job_id


def publisher_for(
    app: FastAPI, job_id: str, deadline: Deadline | None = None
) -> ProviderMediaPublisher:
    services = app.state.services
    return ProviderMediaPublisher(
        database=services.database,
        store=services.store,
        public_base_url=BASE + "/",
        job_id=job_id,
        slot_id="slot-001",
        deadline=deadline or Deadline.start(48),
    )


def token_of(url: str) -> str:
    assert url.startswith(f"{BASE}/public/provider-media/")
    return url.rsplit("/", 1)[1]


async def rows(factory: SessionFactory) -> list[MediaObject]:
    async with factory() as session:
        return list(await session.scalars(select(MediaObject).order_by(MediaObject.created_at)))


async def test_published_input_is_served_until_the_deadline(
    app: FastAPI, client: httpx.AsyncClient, factory: SessionFactory, config: Settings
) -> None:
    job_id = await new_job(factory)
    deadline = Deadline.start(48)
    publish = publisher_for(app, job_id, deadline)
    photo = make_image("PNG", (64, 48))

    url = await publish(photo, "image/png")

    token = token_of(url)
    assert len(token) >= 22  # ≥ 128 random bits of urlsafe base64
    (row,) = await rows(factory)
    assert row.id == token
    assert re.fullmatch(rf"provider-media/\d{{4}}/\d\d/\d\d/{re.escape(token)}\.png", row.key)
    assert (row.kind, row.size, row.mime) == ("provider_media", len(photo), "image/png")
    assert (row.job_id, row.slot_id, row.cleaned_at) == (job_id, "slot-001", None)
    assert row.expires_at == deadline.at
    assert (config.resolved_media_root / row.key).read_bytes() == photo

    response = await client.get(f"/public/provider-media/{token}")
    assert response.status_code == 200
    assert response.content == photo
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "no-store"


async def test_every_publication_gets_its_own_token(app: FastAPI, factory: SessionFactory) -> None:
    publish = publisher_for(app, await new_job(factory))
    photo = make_image("JPEG", (32, 32))
    urls = {await publish(photo, "image/jpeg") for _ in range(3)}
    assert len(urls) == 3
    assert len(await rows(factory)) == 3


async def test_unknown_tokens_and_other_media_are_404(
    app: FastAPI, client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    publish = publisher_for(app, await new_job(factory))
    token = token_of(await publish(make_image("JPEG", (32, 32)), "image/jpeg"))
    (row,) = await rows(factory)
    async with factory() as session, session.begin():
        # A result's row id must not open its file through this route.
        session.add(
            MediaObject(
                id="R" * 32, kind="result", key=row.key + ".result", size=1, mime="image/jpeg"
            )
        )
    for candidate in (
        "nope",
        "x" * 500,
        "A" * 32,
        "R" * 32,
        token[:-1],
        token + "/",
        f"..%2Fresults%2F{token}",
        "..%2F..%2Fetc%2Fpasswd",
        row.key,
    ):
        response = await client.get(f"/public/provider-media/{candidate}")
        assert response.status_code == 404, candidate
        assert response.json()["failure_reason"] == "media_not_found"


async def test_after_the_deadline_it_is_410_and_the_file_is_removed(
    app: FastAPI, client: httpx.AsyncClient, factory: SessionFactory, config: Settings
) -> None:
    publish = publisher_for(app, await new_job(factory))
    token = token_of(await publish(make_image("JPEG", (32, 32)), "image/jpeg"))
    async with factory() as session, session.begin():
        await session.execute(
            update(MediaObject).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    (row,) = await rows(factory)
    assert (config.resolved_media_root / row.key).is_file()

    response = await client.get(f"/public/provider-media/{token}")

    assert response.status_code == 410
    assert response.json()["failure_reason"] == "media_expired"
    assert not (config.resolved_media_root / row.key).exists()
    (row,) = await rows(factory)
    assert row.cleaned_at is not None
    assert (await client.get(f"/public/provider-media/{token}")).status_code == 410


async def test_discard_removes_the_jobs_files_and_tolerates_missing_ones(
    app: FastAPI, client: httpx.AsyncClient, factory: SessionFactory, config: Settings
) -> None:
    job_id = await new_job(factory)
    publish = publisher_for(app, job_id)
    tokens = [token_of(await publish(make_image("JPEG", (32, 32)), "image/jpeg")) for _ in "ab"]
    other = publisher_for(app, await new_job(factory, "job-still-running"))
    other_token = token_of(await other(make_image("PNG", (16, 16)), "image/png"))
    by_id = {row.id: row for row in await rows(factory)}
    (config.resolved_media_root / by_id[tokens[0]].key).unlink()  # cleanup got there first

    assert await publish.discard() == 2

    for token in tokens:
        assert not (config.resolved_media_root / by_id[token].key).exists()
        response = await client.get(f"/public/provider-media/{token}")
        assert response.status_code == 410
    after = {row.id: row for row in await rows(factory)}
    assert all(after[token].cleaned_at is not None for token in tokens)
    assert after[other_token].cleaned_at is None
    assert (await client.get(f"/public/provider-media/{other_token}")).status_code == 200
    services = app.state.services
    assert await discard_provider_media(services.database, services.store, job_id) == 0


async def test_a_file_lost_before_the_deadline_is_410(
    app: FastAPI, client: httpx.AsyncClient, factory: SessionFactory, config: Settings
) -> None:
    publish = publisher_for(app, await new_job(factory))
    token = token_of(await publish(make_image("JPEG", (32, 32)), "image/jpeg"))
    (row,) = await rows(factory)
    (config.resolved_media_root / row.key).unlink()
    response = await client.get(f"/public/provider-media/{token}")
    assert response.status_code == 410


async def test_only_images_are_published(app: FastAPI, factory: SessionFactory) -> None:
    publish = publisher_for(app, await new_job(factory))
    with pytest.raises(ValueError, match="image/gif"):
        await publish(b"GIF89a", "image/gif")
    assert await rows(factory) == []


async def test_the_route_is_documented(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    route = document["paths"]["/public/provider-media/{token}"]["get"]
    assert "fetches its inputs by URL" in " ".join(route["description"].split())
    assert set(route["responses"]) >= {"200", "404", "410"}
