"""Status only moves forward, once (SPEC §3.4)."""

from __future__ import annotations

from photochanger.db import SessionFactory
from photochanger.jobs.repository import JobRepository
from photochanger.models import Job
from support import pending_job


async def test_a_final_status_is_never_overwritten(session_factory: SessionFactory) -> None:
    async with session_factory() as session, session.begin():
        session.add(pending_job("job-1"))
    async with session_factory() as session, session.begin():
        jobs = JobRepository(session)
        assert await jobs.finish("job-1", "timeout", failure_reason="provider_timeout")
        assert not await jobs.finish("job-1", "done")
        assert not await jobs.finish("job-1", "failed", failure_reason="interrupted")
    async with session_factory() as session:
        job = await session.get(Job, "job-1")
        assert job is not None
        assert (job.status, job.failure_reason) == ("timeout", "provider_timeout")
