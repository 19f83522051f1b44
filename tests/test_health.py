"""`/healthz` and `/readyz`: what a load balancer and an orchestrator ask."""

from __future__ import annotations

import shutil

import httpx

from photochanger.config import Settings


async def test_ready_when_the_database_answers_and_the_store_takes_writes(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "media_store": "ok"},
    }


async def test_not_ready_while_the_media_store_cannot_be_written(
    client: httpx.AsyncClient, config: Settings
) -> None:
    # A file where the store's folder was: unwritable even for root.
    root = config.resolved_media_root
    shutil.rmtree(root)
    root.write_bytes(b"")
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "not_ready",
        "checks": {"database": "ok", "media_store": "unwritable"},
    }
