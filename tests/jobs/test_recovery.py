"""SPEC §3.4: a job left `pending` by a dead process is closed at start-up."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from conftest import start_live_server
from photochanger.config import Settings
from photochanger.db import SessionFactory
from photochanger.jobs.recovery import close_interrupted_jobs
from photochanger.models import Job
from photochanger.models.base import utcnow
from support import booth_fields, configure_slot, echo, make_image


async def test_restarted_process_closes_its_pending_job(
    config: Settings, app: FastAPI, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", **echo(delay_seconds=40))
    server = start_live_server(config)
    try:

        def upload() -> None:
            with contextlib.suppress(httpx.HTTPError):  # the server is killed under it
                httpx.post(
                    f"{server.base_url}/api/ingest/slot-001",
                    data=booth_fields(),
                    files={"fileToUpload": ("a.jpg", make_image(), "image/jpeg")},
                    timeout=60,
                )

        threading.Thread(target=upload, daemon=True).start()
        job = None
        for _ in range(200):
            async with factory() as session:
                job = (await session.scalars(select(Job))).first()
            if job is not None:
                break
            await asyncio.sleep(0.05)
        assert job is not None
        assert job.status == "pending"
        os.kill(server.process.pid, signal.SIGKILL)  # a crash: no chance to clean up
        server.process.wait()
    finally:
        server.stop()

    restarted = start_live_server(config)
    restarted.stop()
    async with factory() as session:
        closed = await session.get(Job, job.id)
        assert closed is not None
        assert (closed.status, closed.failure_reason) == ("failed", "interrupted")
        assert closed.finished_at is not None


async def test_other_replicas_live_jobs_are_left_alone(
    app: FastAPI, factory: SessionFactory
) -> None:
    now = utcnow()

    def job(job_id: str, instance: str, started_ago: float) -> Job:
        started = now - timedelta(seconds=started_ago)
        return Job(
            id=job_id,
            slot_id="slot-001",
            source="ingest",
            status="pending",
            provider="local",
            operation="stylize",
            instance_id=instance,
            started_at=started,
            deadline_at=started + timedelta(seconds=48),
            input_size=1,
            input_mime="image/jpeg",
            input_sha1="0" * 40,
            input_sha256="0" * 64,
            booth_metadata={},
            attempts=[],
        )

    async with factory() as session, session.begin():
        session.add_all(
            [
                job("live-other", "replica-b", 5),
                job("dead-other", "replica-c", 600),
                job("mine", "replica-a", 1),
            ]
        )
    assert await close_interrupted_jobs(factory, "replica-a") == 2
    async with factory() as session:
        statuses = {j.id: j.status for j in (await session.scalars(select(Job))).all()}
    assert statuses == {"live-other": "pending", "dead-other": "failed", "mine": "failed"}
