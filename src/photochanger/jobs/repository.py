from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.models import Job
from photochanger.models.base import utcnow

PENDING = "pending"
FINAL_STATUSES = frozenset({"done", "timeout", "failed"})


class JobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, job_id: str) -> Job | None:
        return await self.session.get(Job, job_id)

    def add(self, job: Job) -> None:
        self.session.add(job)

    async def count_live_pending(
        self, *, now: datetime, slot_id: str, provider: str
    ) -> tuple[int, int]:
        """Pending jobs still inside their window, of this slot and of this provider:
        the ones holding a concurrency place. One statement, since admission runs
        under the write lock. A job left pending by a dead replica stops counting at
        its deadline."""
        query = select(
            func.count().filter(Job.slot_id == slot_id),
            func.count().filter(Job.provider == provider),
        ).where(
            Job.status == PENDING,
            Job.deadline_at > now,
            or_(Job.slot_id == slot_id, Job.provider == provider),
        )
        in_slot, for_provider = (await self.session.execute(query)).one()
        return int(in_slot), int(for_provider)

    async def finish(self, job_id: str, status: str, **values: Any) -> bool:
        """Move a pending job to a final status, once. False when it was not
        pending any more: status only moves forward (SPEC §3.4)."""
        assert status in FINAL_STATUSES
        result = await self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == PENDING)
            .values(status=status, **values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult

    async def close_interrupted(self, *, instance_id: str, grace_seconds: float) -> int:
        """Close jobs no process is working on: this replica's own pending jobs
        (it has just started, so they died with its previous run) and any
        replica's pending jobs whose window ended more than `grace_seconds` ago."""
        now = utcnow()
        overdue = Job.deadline_at < now - timedelta(seconds=grace_seconds)
        result = await self.session.execute(
            update(Job)
            .where(Job.status == PENDING, or_(Job.instance_id == instance_id, overdue))
            .values(
                status="failed",
                failure_reason="interrupted",
                failure_details="the process handling this job stopped before it finished",
                finished_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult
