"""SPEC §3.5: limits counted in the database, answered at once."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from support import SessionFactory, booth_fields, configure_slot, echo, make_image


async def test_fifteen_concurrent_ingests_on_a_slot_of_ten(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", **echo(delay_seconds=2.0))

    async def one(seed: int) -> httpx.Response:
        # Fifteen different photos: the same one sent again would wait for the first.
        photo = make_image("JPEG", (160, 120), seed=seed)
        return await client.post(
            "/api/ingest/slot-001",
            data=booth_fields(),
            files={"fileToUpload": ("a.jpg", photo, "image/jpeg")},
        )

    responses = await asyncio.gather(*(one(seed) for seed in range(15)))
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {200: 10, 429: 5}
    for response in responses:
        if response.status_code == 429:
            assert response.json()["retry_after"] > 0
            assert response.headers["retry-after"] == str(response.json()["retry_after"])


async def test_limits_are_per_slot(client: httpx.AsyncClient, factory: SessionFactory) -> None:
    for slot in ("slot-001", "slot-002"):
        await configure_slot(factory, slot, **echo(delay_seconds=1.0))
    photo = make_image("JPEG", (160, 120))

    async def one(slot: str) -> int:
        response = await client.post(
            f"/api/ingest/{slot}",
            data=booth_fields(),
            files={"fileToUpload": ("a.jpg", photo, "image/jpeg")},
        )
        return response.status_code

    results = await asyncio.gather(*(one(s) for s in ["slot-001"] * 10 + ["slot-002"] * 10))
    assert results == [200] * 20
