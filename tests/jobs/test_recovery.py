"""SPEC §3.4: a job left `pending` by a dead process is closed at start-up."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from conftest import start_live_server
from photochanger.config import Settings
from photochanger.db import Database
from photochanger.jobs.recovery import close_interrupted_jobs
from photochanger.models import Job
from support import SessionFactory, booth_fields, configure_slot, echo, make_image, pending_job


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
    factory: SessionFactory, database: Database
) -> None:
    async with factory() as session, session.begin():
        session.add_all(
            [
                pending_job("live-other", instance_id="replica-b", started_ago=5),
                pending_job("dead-other", instance_id="replica-c", started_ago=600),
                pending_job("mine", instance_id="replica-a", started_ago=1),
            ]
        )
    assert await close_interrupted_jobs(database, "replica-a") == 2
    async with factory() as session:
        statuses = {j.id: j.status for j in (await session.scalars(select(Job))).all()}
    assert statuses == {"live-other": "pending", "dead-other": "failed", "mine": "failed"}
