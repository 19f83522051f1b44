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
from fastapi import FastAPI
from sqlalchemy import event, select

from photochanger.config import Settings
from photochanger.db import Database
from photochanger.deadline import Deadline
from photochanger.ingest.admission import AdmissionRequest, JobAdmission, PreparedJob
from photochanger.ingest.door import BOOTH
from photochanger.ingest.snapshot import IngestSnapshots
from photochanger.models import Job
from photochanger.multipart import SpooledFile, UploadForm
from support import (
    INGEST_PASSWORD,
    SessionFactory,
    assert_error,
    booth_fields,
    configure_slot,
    echo,
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


async def test_only_a_kept_snapshot_is_confirmed_at_admission(
    app: FastAPI, database: Database, config: Settings
) -> None:
    """A request reads the configuration at most twice: a fresh read is admitted
    as read, even when it is already older than the latest change; a kept one
    that is out of date is read again and the photo admitted on the new read."""
    services = app.state.services
    snapshots = IngestSnapshots(database)
    admission = JobAdmission(
        database=database, snapshots=snapshots, registry=services.registry, config=config
    )
    fresh = await snapshots.fresh("slot-001")
    assert not fresh.reused
    outdated = replace(fresh, config_version=fresh.config_version - 1)
    photo = SpooledFile(config.resolved_spool_dir)
    photo.write(make_image(seed=7))
    photo.finish()
    request = AdmissionRequest(
        slot_id="slot-001",
        form=UploadForm(password=INGEST_PASSWORD, file=photo),
        door=BOOTH,
        snapshot=outdated,
        deadline=Deadline.start(outdated.window_seconds),
    )

    async def nothing(job: PreparedJob) -> None:
        return None

    with statements(database) as seen:
        as_read = await admission.admit(request, dedupe=False, on_cancelled=nothing)
    assert isinstance(as_read, PreparedJob)
    assert as_read.snapshot is outdated
    assert not [sql for sql in seen if "FROM config_version" in sql or "FROM slot " in sql]

    with statements(database) as seen:
        read_again = await admission.admit(
            replace(request, snapshot=replace(outdated, reused=True)),
            dedupe=False,
            on_cancelled=nothing,
        )
    assert isinstance(read_again, PreparedJob)
    assert read_again.snapshot.config_version == fresh.config_version
    assert not read_again.snapshot.reused
    # The check in the admission, then the one fresh read (version, slot).
    assert len([sql for sql in seen if "FROM config_version" in sql]) == 2
    assert len([sql for sql in seen if "FROM slot " in sql]) == 1

    admitted = await database.read(
        lambda connection: connection.execute(select(Job.id)).scalars().all()
    )
    assert sorted(admitted) == sorted([as_read.record.id, read_again.record.id])
