"""SPEC §3.4, §5.1: a server killed with `kill -9` mid-ingest leaves its job to be
closed `failed/interrupted` when it starts again, and never a partial file that
anyone is served: not at the job's result link, not in the gallery, not in the
media directory — and the temp files it left (the spooled upload, a put cut
short) are removed when it starts again."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from conftest import start_live_server
from faults.faulty import files_under, pending_job, post
from photochanger.app import create_app
from photochanger.config import Settings
from photochanger.db import Database
from photochanger.jobs.recovery import close_interrupted_jobs
from photochanger.models import Job
from support import (
    SessionFactory,
    assert_error,
    booth_fields,
    configure_slot,
    echo,
    noise_jpeg,
)

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

LARGE_PHOTO = noise_jpeg(5 * 1024 * 1024)
"""Spooled to disk while the provider runs."""


def upload_in_background(base_url: str) -> threading.Thread:
    def upload() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server dies under it
            httpx.post(
                f"{base_url}/api/ingest/slot-001",
                data=booth_fields(),
                files={"fileToUpload": ("IMG_0001.jpg", LARGE_PHOTO, "image/jpeg")},
                timeout=60,
            )

    thread = threading.Thread(target=upload, daemon=True)
    thread.start()
    return thread


async def test_a_server_killed_mid_ingest_serves_nothing_partial_and_sweeps_its_temp_files(
    app: FastAPI,
    config: Settings,
    factory: SessionFactory,
    admin_client: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    del app  # migrated the database; the server gets a data directory of its own
    own = tmp_path / "server"
    server_config = config.model_copy(update={"data_dir": own})
    media, spool = own / "media", own / "spool"  # where the server puts them
    await configure_slot(factory, "slot-001", **echo(delay_seconds=30))
    server = start_live_server(server_config)
    try:
        upload = upload_in_background(server.base_url)
        job_id = await pending_job(factory)
        assert len(files_under(spool)) == 1  # the upload, on disk while the provider runs
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
    finally:
        server.stop()
    await asyncio.to_thread(upload.join, 10)
    # What a put cut short by the kill leaves (a kill cannot be timed inside one).
    (media / ".tmp" / "0123456789abcdef01234567.part").write_bytes(b"\xff\xd8\xff half a JPEG")
    assert len(files_under(spool)) == 1
    assert files_under(media) == [".tmp/0123456789abcdef01234567.part"]

    restarted = start_live_server(server_config)
    try:
        async with factory() as session:
            job = await session.get(Job, job_id)
        assert job is not None
        assert (job.status, job.failure_reason) == ("failed", "interrupted")
        assert job.result_key is None
        async with httpx.AsyncClient(base_url=restarted.base_url, timeout=30) as http:
            assert (await http.get(f"/public/results/{job_id}")).status_code == 404
            assert (await http.get(f"/public/results/{job_id}/preview.webp")).status_code == 404
        gallery = (await admin_client.get("/api/gallery")).json()
        assert [result for slot in gallery["slots"] for result in slot["results"]] == []
        assert files_under(spool) == []
        assert files_under(media) == []
    finally:
        restarted.stop()


async def test_a_server_started_beside_a_live_one_sweeps_none_of_its_temp_files(
    app: FastAPI, config: Settings
) -> None:
    """Two processes on one data directory: the live one holds its temp
    directories, so the one starting removes nothing the other is writing."""
    del app  # the live one
    in_flight = [
        config.resolved_spool_dir / "upload-in-flight",
        config.resolved_media_root / ".tmp" / "in-flight.part",
    ]
    for path in in_flight:
        path.write_bytes(b"being written")
    second = create_app(config.model_copy(update={"instance_id": "replica-2"}))
    async with second.router.lifespan_context(second):
        assert all(path.exists() for path in in_flight)


async def test_a_result_made_for_a_job_closed_meanwhile_is_not_left_in_the_store(
    client: httpx.AsyncClient, factory: SessionFactory, database: Database, config: Settings
) -> None:
    """Another replica's start-up closed the job as `interrupted` while this
    process still ran it (its previous run had the same instance id): the result
    put meanwhile is named by no row, so it is deleted again."""
    await configure_slot(factory, "slot-001", **echo(delay_seconds=1.0))
    answer = asyncio.ensure_future(post(client))
    job_id = await pending_job(factory)
    assert await close_interrupted_jobs(database, config.instance_id) == 1
    assert_error(await answer, 500, "internal_error")
    async with factory() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    assert (job.status, job.failure_reason, job.result_key) == ("failed", "interrupted", None)
    assert files_under(config.resolved_media_root) == []
