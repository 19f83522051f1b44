"""SQL on `job`, as functions of one connection: `Database` runs them as units of
work (one thread hop on SQLite; `run_sync` on PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    CursorResult,
    Row,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)

from photochanger.models import Job
from photochanger.models.base import utcnow
from photochanger.models.job import JobSource, JobStatus

PENDING = JobStatus.pending
FINAL_STATUSES = frozenset(JobStatus) - {PENDING}

# The ingest's statements are built once: SQLAlchemy then skips building and
# hashing them on every request (measured: most of a unit of work's CPU).
# Parameters name the columns to set; `b_` parameters are the WHERE values.
_GET = select(Job.__table__).where(Job.id == bindparam("b_job_id"))
_INSERT = insert(Job)
_COUNT_LIVE_PENDING = select(
    func.count().filter(Job.slot_id == bindparam("b_slot_id")),
    func.count().filter(Job.provider == bindparam("b_provider")),
).where(
    Job.status == PENDING,
    Job.deadline_at > bindparam("b_now"),
    or_(Job.slot_id == bindparam("b_slot_id"), Job.provider == bindparam("b_provider")),
)
_SAME_PHOTO = (
    # Only the columns of `ix_job_dedupe`: given also source and status, SQLite's
    # planner preferred `ix_job_slot_outcome` and read every job of the slot in
    # the window (0.7 ms a request under load, measured).
    select(Job.__table__)
    .where(
        Job.slot_id == bindparam("b_slot_id"),
        Job.input_sha256 == bindparam("b_sha256"),
        Job.started_at >= bindparam("b_since"),
    )
    .order_by(Job.started_at.desc())
    .limit(bindparam("b_limit"))
)
SAME_PHOTO_CANDIDATES = 20
"""Jobs of one photo on one slot looked at: a re-send is answered by its original,
so more than a few are rare (each needs the previous one to have failed)."""
_FINISH = update(Job).where(Job.id == bindparam("b_job_id"), Job.status == PENDING)


@dataclass(frozen=True, slots=True)
class NewJob:
    """A job as its admission inserts it, `pending` (SPEC §3.4)."""

    id: str
    slot_id: str
    source: JobSource
    provider: str
    """The slot's primary provider (an admin's test run: the one it chose)."""
    operation: str
    slot_version: int
    instance_id: str
    started_at: datetime
    deadline_at: datetime
    input_size: int
    input_mime: str
    input_sha1: str
    input_sha256: str
    client_hash: str | None
    client_hash_mismatch: bool
    booth_metadata: dict[str, str]


_NEW_JOB_COLUMNS = tuple(field.name for field in fields(NewJob))


def final_times(started_at: datetime, finished_at: datetime) -> dict[str, Any]:
    """The `finished_at` and `duration_ms` of a job that ends at `finished_at`."""
    duration = int((finished_at - started_at).total_seconds() * 1000)
    return {"finished_at": finished_at, "duration_ms": max(0, duration)}


class JobRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def get(self, job_id: str) -> Row[Any] | None:
        """The job's row (every column by name), or None."""
        return self.connection.execute(_GET, {"b_job_id": job_id}).first()

    def insert(self, job: NewJob) -> None:
        values = {name: getattr(job, name) for name in _NEW_JOB_COLUMNS}
        values.update(status=PENDING, attempts=[])
        self.connection.execute(_INSERT, [values])

    def find_original(
        self, *, slot_id: str, slot_version: int, sha256: str, since: datetime, now: datetime
    ) -> Row[Any] | None:
        """The newest ingest of the same photo on the same slot, run with the same
        slot version, since `since` that is still pending in its window, or done
        with its result kept (SPEC §3.5). Served by `ix_job_dedupe` (slot_id,
        input_sha256, started_at)."""
        parameters = {
            "b_slot_id": slot_id,
            "b_sha256": sha256,
            "b_since": since,
            "b_limit": SAME_PHOTO_CANDIDATES,
        }
        for row in self.connection.execute(_SAME_PHOTO, parameters):
            if row.source != JobSource.ingest or row.slot_version != slot_version:
                continue
            if row.status == PENDING and row.deadline_at > now:
                return row
            if row.status == JobStatus.done and row.result_expires_at > now:
                return row
        return None

    def count_live_pending(self, *, now: datetime, slot_id: str, provider: str) -> tuple[int, int]:
        """Pending jobs still inside their window, of this slot and of this provider:
        the ones holding a concurrency place. One statement, since admission runs
        under the write lock. A job left pending by a dead replica stops counting at
        its deadline."""
        parameters = {"b_now": now, "b_slot_id": slot_id, "b_provider": provider}
        in_slot, for_provider = self.connection.execute(_COUNT_LIVE_PENDING, parameters).one()
        return int(in_slot), int(for_provider)

    def finish(self, job_id: str, status: JobStatus, **values: Any) -> bool:
        """Move a pending job to a final status, once. False when it was not
        pending any more: status only moves forward (SPEC §3.4)."""
        assert status in FINAL_STATUSES
        result = self.connection.execute(_FINISH, {"b_job_id": job_id, "status": status, **values})
        assert isinstance(result, CursorResult)
        return bool(result.rowcount)

    def close_interrupted(self, *, instance_id: str, grace_seconds: float) -> int:
        """Close jobs no process is working on: this replica's own pending jobs
        (it has just started, so they died with its previous run) and any
        replica's pending jobs whose window ended more than `grace_seconds` ago."""
        now = utcnow()
        overdue = Job.deadline_at < now - timedelta(seconds=grace_seconds)
        result = self.connection.execute(
            update(Job)
            .where(Job.status == PENDING, or_(Job.instance_id == instance_id, overdue))
            .values(
                status=JobStatus.failed,
                failure_reason="interrupted",
                failure_details="the process handling this job stopped before it finished",
                finished_at=now,
            )
        )
        assert isinstance(result, CursorResult)
        return int(result.rowcount)
