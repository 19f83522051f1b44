"""Limits hold across replicas: two app instances, each with its own engine and
pool (as two processes would have), sharing one database."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from photochanger.app import create_app
from photochanger.config import Settings
from photochanger.db import SessionFactory
from support import booth_fields, configure_slot, echo, make_image


@pytest.fixture
async def second_replica(config: Settings, app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    replica = create_app(config.model_copy(update={"instance_id": "replica-2"}))
    async with replica.router.lifespan_context(replica):
        transport = httpx.ASGITransport(app=replica)
        async with httpx.AsyncClient(transport=transport, base_url="http://b.test") as client:
            yield client


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
