"""Limits and dedupe hold across replicas: two app instances, each with its own
engine and pool (as two processes would have), sharing one database."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest
from sqlalchemy import select

from fakes import gemini
from fakes.gemini import GeminiFake
from photochanger.config import Settings
from photochanger.models import Job
from support import SessionFactory, booth_fields, configure_slot, echo, make_image, put_setting


@pytest.fixture
def config(config: Settings, gemini_server: GeminiFake) -> Settings:
    return config.model_copy(update={"provider_base_urls": {"gemini": gemini_server.base_url}})


async def test_slot_limit_holds_across_two_replicas(
    client: httpx.AsyncClient, second_replica: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", **echo(delay_seconds=2.0))

    async def one(target: httpx.AsyncClient, seed: int) -> int:
        photo = make_image("JPEG", (160, 120), seed=seed)  # sixteen different photos
        response = await target.post(
            "/api/ingest/slot-001",
            data=booth_fields(),
            files={"fileToUpload": ("a.jpg", photo, "image/jpeg")},
        )
        return response.status_code

    clients = [client, second_replica] * 8  # 16 at once, alternating replicas
    statuses = Counter(await asyncio.gather(*(one(c, i) for i, c in enumerate(clients))))
    assert statuses == {200: 10, 429: 6}


async def test_the_same_photo_sent_to_both_replicas_at_once_pays_the_provider_once(
    client: httpx.AsyncClient,
    second_replica: httpx.AsyncClient,
    factory: SessionFactory,
    gemini_fake: GeminiFake,
) -> None:
    """A booth that re-sends through a load balancer reaches the other replica:
    admission there must see the first replica's pending job and wait for it."""
    await put_setting(factory, "gemini_api_key", gemini.API_KEY)
    await configure_slot(
        factory,
        "slot-001",
        provider="gemini",
        operation="edit",
        settings={"prompt": "Put the guests on a sunny beach."},
        fallback=None,
    )
    # Slow enough that the second request is admitted while the first is pending;
    # a second call would get the fake's default answer at once and be counted.
    gemini_fake.queue(gemini.success(delay=1.5))
    photo = make_image("JPEG", (320, 240), seed=12)

    async def send(target: httpx.AsyncClient) -> httpx.Response:
        return await target.post(
            "/api/ingest/slot-001",
            data=booth_fields(),
            files={"fileToUpload": ("IMG_0001.JPG", photo, "image/jpeg")},
            timeout=60,
        )

    first, second = await asyncio.gather(send(client), send(second_replica))

    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    assert first.headers["x-job-id"] == second.headers["x-job-id"]
    assert first.content == second.content
    assert first.headers["content-type"] == second.headers["content-type"] == "image/png"
    assert len(gemini_fake.received) == 1
    async with factory() as session:
        (job,) = (await session.scalars(select(Job))).all()
    assert (job.id, job.status) == (first.headers["x-job-id"], "done")
    assert job.instance_id in {"test-instance", "replica-2"}
