"""Two replicas proven to agree (SPEC §9): two `photochanger serve` processes on
different loopback ports sharing one PostgreSQL database and one S3 bucket (a
real S3-wire server on loopback, moto's).
Whatever must agree lives in the database or the store, so what one replica
does, the other sees: jobs and results, settings and slots, the concurrency
limit, the gallery share, the login lockout, cleanup, and the interrupted job
of a replica killed mid-ingest. The public gallery's rate limit is the one
thing counted per replica, on purpose (docs/operations.md)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Connection, select

from conftest import LiveServer, start_live_server
from moto_s3 import S3Bucket, object_bytes, object_names
from photochanger.cleanup.service import BATCH_SIZE
from photochanger.config import Settings
from photochanger.db import Database
from photochanger.media.repository import MediaRepository
from photochanger.media.store import MediaStore
from photochanger.models import Job, MediaObject
from photochanger.models.base import utcnow
from support import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    INGEST_PASSWORD,
    SessionFactory,
    booth_fields,
    configure_slot,
    echo,
    make_image,
    put_setting,
)

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@dataclass
class Replica:
    name: str
    server: LiveServer
    http: httpx.AsyncClient
    admin: httpx.AsyncClient


@pytest.fixture
def config(config: Settings, s3_bucket: S3Bucket) -> Settings:
    # The in-process app migrates, seeds and hands out tokens; its own cleanup stays off.
    store = s3_bucket.settings()
    for secret in ("s3_access_key_id", "s3_secret_access_key"):
        store[secret] = SecretStr(store[secret])  # as the settings would read them
    return config.model_copy(update={"cleanup_enabled": False, **store})


def replica_env(name: str, bucket: S3Bucket) -> dict[str, str]:
    return {
        "PHOTOCHANGER_INSTANCE_ID": name,
        "PHOTOCHANGER_CLEANUP_ENABLED": "false",
        **bucket.environment(),
    }


@pytest.fixture
def servers(config: Settings, app: FastAPI, s3_bucket: S3Bucket) -> Iterator[dict[str, LiveServer]]:
    started = {name: start_live_server(config, replica_env(name, s3_bucket)) for name in ("a", "b")}
    yield started
    for server in started.values():
        server.stop()


@pytest.fixture
async def replicas(
    servers: dict[str, LiveServer], admin_token: str
) -> AsyncIterator[tuple[Replica, Replica]]:
    """Replica A and B, each with a booth client and an admin client (the token
    a login on either signs with the secret both read from the database)."""
    made = []
    for name, server in servers.items():
        http = httpx.AsyncClient(base_url=server.base_url, timeout=60, trust_env=False)
        admin = httpx.AsyncClient(
            base_url=server.base_url,
            timeout=60,
            trust_env=False,
            headers={"Authorization": f"Bearer {admin_token}"},
        )
        made.append(Replica(name, server, http, admin))
    yield made[0], made[1]
    for replica in made:
        await replica.http.aclose()
        await replica.admin.aclose()


async def ingest(
    replica: Replica, seed: int, password: str = INGEST_PASSWORD, slot: str = "slot-001"
) -> httpx.Response:
    return await replica.http.post(
        f"/api/ingest/{slot}",
        data=booth_fields(password=password),
        files={"fileToUpload": ("a.jpg", make_image("JPEG", (160, 120), seed=seed), "image/jpeg")},
    )


async def test_a_job_made_on_one_is_seen_and_served_by_the_other(
    replicas: tuple[Replica, Replica],
    factory: SessionFactory,
    s3_bucket: S3Bucket,
    s3_client: S3Client,
) -> None:
    a, b = replicas
    await configure_slot(factory, "slot-001", **echo())
    response = await ingest(a, seed=1)
    assert response.status_code == 200, response.text
    job_id = response.headers["x-job-id"]
    assert response.headers["x-result-url"].startswith(a.server.base_url)

    listed = (await b.admin.get("/api/jobs", params={"slot_id": "slot-001"})).json()["jobs"]
    assert [job["id"] for job in listed] == [job_id]
    served = await b.http.get(f"/public/results/{job_id}")
    assert served.status_code == 200
    assert served.content == response.content
    detail = await b.admin.get(f"/api/jobs/{job_id}")
    assert detail.json()["status"] == "done"
    async with database_row(factory, job_id) as job:
        stored = await object_bytes(
            s3_client, s3_bucket.name, s3_bucket.object_name(job.result_key)
        )
    assert stored == response.content  # in the bucket, not on A's disk


async def test_a_setting_or_slot_saved_on_one_applies_to_the_others_next_ingest(
    replicas: tuple[Replica, Replica], factory: SessionFactory
) -> None:
    a, b = replicas
    await configure_slot(factory, "slot-001", **echo())
    assert (await ingest(a, seed=2)).status_code == 200  # A has read the configuration

    changed = await b.admin.put("/api/settings", json={"ingest_password": "the-new-one-42"})
    assert changed.status_code == 200, changed.text
    assert (await ingest(a, seed=3)).status_code == 401
    assert (await ingest(a, seed=4, password="the-new-one-42")).status_code == 200

    slot = (await b.admin.get("/api/slots/slot-001")).json()
    saved = await b.admin.put(
        "/api/slots/slot-001",
        json={
            "provider": "local",
            "operation": "stylize",
            "settings": {"style": "pencil"},
            "version": slot["version"],
        },
    )
    assert saved.status_code == 200, saved.text
    response = await ingest(a, seed=5, password="the-new-one-42")
    assert response.status_code == 200
    async with factory() as session:
        job = await session.get(Job, response.headers["x-job-id"])
    assert job is not None
    assert (job.provider, job.operation, job.instance_id) == ("local", "stylize", "a")


async def test_the_slot_limit_holds_across_both(
    replicas: tuple[Replica, Replica], factory: SessionFactory
) -> None:
    a, b = replicas
    await put_setting(factory, "slot_concurrency_limit", 2)
    await configure_slot(factory, "slot-001", **echo(delay_seconds=4.0))
    targets = [a, b, a, b, a, b]
    statuses = Counter(
        response.status_code
        for response in await asyncio.gather(
            *(ingest(target, seed=10 + n) for n, target in enumerate(targets))
        )
    )
    assert statuses == {200: 2, 429: 4}


async def test_a_gallery_shared_on_one_opens_on_the_other(
    replicas: tuple[Replica, Replica], factory: SessionFactory
) -> None:
    a, b = replicas
    await configure_slot(factory, "slot-001", **echo())
    assert (await ingest(a, seed=20)).status_code == 200
    assert (await b.http.get("/pub/gallery")).status_code == 403
    assert (await a.admin.post("/api/gallery/share")).status_code == 200
    opened = await b.http.get("/pub/gallery")
    assert opened.status_code == 200
    assert len(opened.json()["slots"][0]["results"]) == 1
    assert (await b.admin.delete("/api/gallery/share")).status_code in (200, 204)
    assert (await a.http.get("/pub/gallery")).status_code == 403


async def test_the_login_lockout_holds_across_both_and_the_gallery_limit_is_per_replica(
    replicas: tuple[Replica, Replica],
) -> None:
    a, b = replicas
    for attempt in range(10):
        target = (a, b)[attempt % 2]
        wrong = await target.http.post(
            "/api/login", json={"username": ADMIN_USERNAME, "password": f"nope-{attempt}"}
        )
        assert wrong.status_code == 401
    for target in (a, b):  # locked on both, even with the right password
        right = await target.http.post(
            "/api/login", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        )
        assert right.status_code == 429

    assert (await a.admin.post("/api/gallery/share")).status_code == 200
    answers = [(await a.http.get("/pub/gallery")).status_code for _ in range(31)]
    assert answers[:30] == [200] * 30
    assert answers[30] == 429
    # Each replica spends at most 30 answers a minute on one client: B has its own count.
    assert (await b.http.get("/pub/gallery")).status_code == 200


async def test_both_cleaning_at_once_remove_each_expired_object_once(
    replicas: tuple[Replica, Replica],
    app: FastAPI,
    database: Database,
    s3_bucket: S3Bucket,
    s3_client: S3Client,
) -> None:
    a, b = replicas
    store = app.state.services.store  # the same bucket, through the app's own store
    expired = [await stored_object(database, store, size=100 + n) for n in range(40)]
    live = await stored_object(database, store, size=10, expires_in=3600)
    # Enough rows that a run claims several batches of BATCH_SIZE, so the two
    # really run side by side (rows without an object: S3 deletes those as well).
    backlog = 3 * BATCH_SIZE
    await database.write(lambda connection: expired_rows(connection, backlog))
    names = await object_names(s3_client, s3_bucket.name)
    assert s3_bucket.object_name(live.key) in names
    assert len(names) == 41

    summaries = await asyncio.gather(a.admin.post("/api/cleanup"), b.admin.post("/api/cleanup"))
    removed = [response.json()["removed"]["result"] for response in summaries]
    assert sum(part["count"] for part in removed) == 40 + backlog
    assert all(part["count"] > 0 for part in removed)  # both did a share of the work
    assert sum(part["bytes"] for part in removed) == sum(100 + n for n in range(40)) + backlog
    assert await object_names(s3_client, s3_bucket.name) == [s3_bucket.object_name(live.key)]
    async with database.engine.connect() as connection:
        cleaned = (
            await connection.execute(
                select(MediaObject.key).where(MediaObject.cleaned_at.is_not(None))
            )
        ).all()
    assert len(cleaned) == 40 + backlog
    assert {row.key for row in cleaned} >= {row.key for row in expired}


def expired_rows(connection: Connection, count: int) -> None:
    expired = utcnow() - timedelta(minutes=1)
    repository = MediaRepository(connection)
    for n in range(count):
        repository.add(
            kind="result", key=f"results/backlog/{n}.bin", size=1, mime="image/jpeg",
            slot_id="slot-001", expires_at=expired,
        )  # fmt: skip


async def test_a_replica_killed_mid_ingest_leaves_the_other_serving_and_its_job_interrupted(
    replicas: tuple[Replica, Replica],
    config: Settings,
    factory: SessionFactory,
    s3_bucket: S3Bucket,
) -> None:
    a, b = replicas
    await configure_slot(factory, "slot-001", **echo(delay_seconds=30.0))
    running = asyncio.ensure_future(ingest(a, seed=30))
    job_id = await pending_job_of(factory, "a")

    os.kill(a.server.process.pid, signal.SIGKILL)
    a.server.process.wait(timeout=10)
    with pytest.raises(httpx.HTTPError):
        await running

    await configure_slot(factory, "slot-001", **echo())
    assert (await ingest(b, seed=31)).status_code == 200  # B serves on
    async with factory() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    assert job.status == "pending"  # nobody closed it yet: A is dead, its window is open

    restarted = start_live_server(config, replica_env("a", s3_bucket))
    try:
        async with factory() as session:
            job = await session.get(Job, job_id)
        assert job is not None
        assert (job.status, job.failure_reason) == ("failed", "interrupted")
        assert job.result_key is None  # nothing half-made is ever served
        gone = await b.http.get(f"/public/results/{job_id}")
        assert gone.status_code == 404
    finally:
        restarted.stop()


async def pending_job_of(factory: SessionFactory, instance_id: str) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        async with factory() as session:
            found = (
                await session.scalars(
                    select(Job.id).where(Job.instance_id == instance_id, Job.status == "pending")
                )
            ).first()
        if found is not None:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"no pending job of {instance_id}")


@asynccontextmanager
async def database_row(factory: SessionFactory, job_id: str) -> AsyncIterator[Job]:
    async with factory() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        yield job


@dataclass(frozen=True)
class StoredObject:
    id: str
    key: str


async def stored_object(
    database: Database, store: MediaStore, *, size: int, expires_in: float = -60.0
) -> StoredObject:
    """A result object in the store with its `media_object` row."""
    key = f"results/test/{uuid.uuid4().hex}.bin"
    await store.put_bytes(key, b"x" * size)
    expires = utcnow() + timedelta(seconds=expires_in)

    def add(connection: Connection) -> str:
        return MediaRepository(connection).add(
            kind="result", key=key, size=size, mime="image/jpeg", slot_id="slot-001",
            expires_at=expires,
        )  # fmt: skip

    return StoredObject(await database.write(add), key)
