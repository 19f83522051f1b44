"""An ingest reuses the slot and settings an earlier one read, and a change made
anywhere (another replica, an operator's SQL) still applies to the next ingest
(SPEC §3.4): `config_version`, bumped by trigger, is checked at admission."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select

from photochanger.db import Database
from photochanger.ingest.admission import Admission
from photochanger.ingest.snapshot import IngestSnapshots, StaleSnapshot
from photochanger.models import Job
from photochanger.models.base import utcnow
from support import (
    SessionFactory,
    assert_error,
    booth_fields,
    configure_slot,
    echo,
    job_row,
    make_image,
    noise_jpeg,
    put_setting,
)

MB = 1024 * 1024


async def send(
    client: httpx.AsyncClient, photo: bytes, password: str | None = None
) -> httpx.Response:
    fields = booth_fields() if password is None else booth_fields(password)
    return await client.post(
        "/api/ingest/slot-001",
        data=fields,
        files={"fileToUpload": ("IMG_0001.JPG", photo, "image/jpeg")},
    )


async def warm(client: httpx.AsyncClient, seed: int = 100) -> None:
    response = await send(client, make_image("JPEG", (160, 120), seed=seed))
    assert response.status_code == 200, response.text


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(" ".join(str(args[2]).split()))

    engine = database.units_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_the_next_ingest_reuses_slot_and_settings_and_checks_the_version(
    client: httpx.AsyncClient, factory: SessionFactory, database: Database
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    await warm(client)
    with statements(database) as seen:
        await warm(client, seed=101)
    assert not [sql for sql in seen if "FROM setting" in sql or "FROM slot " in sql]
    assert len([sql for sql in seen if "FROM config_version" in sql]) == 1


async def test_a_slot_disabled_elsewhere_refuses_the_next_ingest(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    await warm(client)
    await configure_slot(factory, "slot-001", active=False)
    assert_error(await send(client, make_image(seed=1)), 404, "slot_disabled")
    await configure_slot(factory, "slot-001", active=True)
    assert (await send(client, make_image(seed=2))).status_code == 200


async def test_a_slot_reconfigured_elsewhere_runs_its_new_provider(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    await warm(client)
    await configure_slot(
        factory, "slot-001", provider="local", operation="stylize", settings={"style": "pencil"}
    )
    photo = make_image(seed=3)
    response = await send(client, photo)
    assert response.status_code == 200
    assert response.content != photo  # echo would have sent it back unchanged


async def test_a_password_changed_elsewhere_applies_to_the_next_ingest(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    await warm(client)
    await put_setting(factory, "ingest_password", "a-new-password")
    assert_error(await send(client, make_image(seed=4)), 401, "invalid_password")
    response = await send(client, make_image(seed=5), password="a-new-password")
    assert response.status_code == 200


async def test_a_size_limit_raised_elsewhere_lets_a_larger_photo_in(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", size_limit_mb=1, **echo())
    await warm(client)
    await configure_slot(factory, "slot-001", size_limit_mb=3)
    photo = noise_jpeg(2 * MB)
    assert len(photo) > MB
    response = await send(client, photo)
    assert response.status_code == 200, response.text
    assert response.content == photo


async def test_a_size_limit_lowered_elsewhere_refuses_a_photo_the_old_one_allowed(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", size_limit_mb=3, **echo())
    await warm(client)
    await configure_slot(factory, "slot-001", size_limit_mb=1)
    body = assert_error(await send(client, noise_jpeg(2 * MB)), 413, "payload_too_large")
    assert "limit is 1.0 MB" in str(body["details"])


async def test_a_sync_window_changed_elsewhere_sets_the_next_jobs_deadline(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    await warm(client)
    await put_setting(factory, "sync_response_seconds", 20)
    response = await send(client, make_image(seed=6))
    assert response.status_code == 200
    async with factory() as session:
        job = await session.scalar(select(Job).where(Job.id == response.headers["x-job-id"]))
    assert job is not None
    assert job.deadline_at - job.started_at == timedelta(seconds=20)


async def test_only_a_kept_snapshot_is_confirmed_at_admission(database: Database) -> None:
    """A request reads the configuration at most twice: a fresh read is admitted
    as read, even when it is already older than the latest change."""
    fresh = await IngestSnapshots(database).fresh("slot-001")
    assert not fresh.reused
    outdated = replace(fresh, config_version=fresh.config_version - 1)
    admission = Admission(database)

    async def nothing() -> None:
        return None

    def row(job_id: str) -> dict[str, Any]:
        return job_row(job_id, utcnow(), status="pending", slot_version=1)

    assert await admission.admit(row("a"), outdated, dedupe=False, on_cancelled=nothing) is None
    with pytest.raises(StaleSnapshot):
        await admission.admit(
            row("b"), replace(outdated, reused=True), dedupe=False, on_cancelled=nothing
        )
    admitted = await database.read(
        lambda connection: connection.execute(select(Job.id).order_by(Job.id)).scalars().all()
    )
    assert admitted == ["a"]
