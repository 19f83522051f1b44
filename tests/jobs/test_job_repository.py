"""Status only moves forward, once (SPEC §3.4)."""

from __future__ import annotations

from datetime import timedelta

from photochanger.db import SessionFactory
from photochanger.jobs.repository import JobRepository
from photochanger.models import Job
from photochanger.models.base import utcnow


async def test_a_final_status_is_never_overwritten(session_factory: SessionFactory) -> None:
    now = utcnow()
    async with session_factory() as session, session.begin():
        session.add(
            Job(
                id="job-1",
                slot_id="slot-001",
                source="ingest",
                status="pending",
                provider="local",
                operation="stylize",
                instance_id="a",
                started_at=now,
                deadline_at=now + timedelta(seconds=48),
                input_size=1,
                input_mime="image/jpeg",
                input_sha1="0" * 40,
                input_sha256="0" * 64,
                booth_metadata={},
                attempts=[],
            )
        )
    async with session_factory() as session, session.begin():
        jobs = JobRepository(session)
        assert await jobs.finish("job-1", "timeout", failure_reason="provider_timeout")
        assert not await jobs.finish("job-1", "done")
        assert not await jobs.finish("job-1", "failed", failure_reason="interrupted")
    async with session_factory() as session:
        job = await session.get(Job, "job-1")
        assert job is not None
        assert (job.status, job.failure_reason) == ("timeout", "provider_timeout")
