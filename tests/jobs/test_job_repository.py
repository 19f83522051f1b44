"""Status only moves forward, once (SPEC §3.4)."""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from photochanger.db import Database
from photochanger.jobs.repository import JobRepository
from photochanger.models import Job
from support import SessionFactory, pending_job


async def test_a_final_status_is_never_overwritten(
    engine: AsyncEngine, session_factory: SessionFactory
) -> None:
    async with session_factory() as session, session.begin():
        session.add(pending_job("job-1"))

    def finish_three_times(connection: Connection) -> list[bool]:
        jobs = JobRepository(connection)
        return [
            jobs.finish("job-1", "timeout", failure_reason="provider_timeout"),
            jobs.finish("job-1", "done"),
            jobs.finish("job-1", "failed", failure_reason="interrupted"),
        ]

    database = Database(engine)
    try:
        assert await database.write(finish_three_times) == [True, False, False]
    finally:
        await database.dispose()
    async with session_factory() as session:
        job = await session.get(Job, "job-1")
        assert job is not None
        assert (job.status, job.failure_reason) == ("timeout", "provider_timeout")
