"""The admin's job log (SPEC §6.4): filtered, newest first, keyset-paginated.

Kept apart from repository.py, whose statements are the ingest's hot path."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, or_, select

from photochanger.jobs.schemas import JobFilter
from photochanger.models import Job
from photochanger.models.job import JobOutcome, JobStatus

LIST_COLUMNS = (
    Job.id,
    Job.slot_id,
    Job.source,
    Job.status,
    Job.failure_reason,
    Job.provider,
    Job.operation,
    Job.produced_by,
    Job.degraded_reason,
    Job.cost_micros,
    Job.started_at,
    Job.finished_at,
    Job.duration_ms,
    Job.input_size,
    Job.input_mime,
    Job.result_mime,
    Job.result_size,
)

EXPORT_COLUMNS = (
    # Everything but the attempts log and storage keys: what a spreadsheet needs.
    *LIST_COLUMNS,
    Job.failure_details,
    Job.sent_size,
    Job.sent_width,
    Job.sent_height,
    Job.deadline_at,
    Job.input_sha256,
    Job.client_hash_mismatch,
    Job.result_expires_at,
    Job.booth_metadata,
)


OUTCOME_CONDITIONS: dict[JobOutcome, list[Any]] = {
    JobOutcome.success: [Job.status == JobStatus.done, Job.degraded_reason.is_(None)],
    JobOutcome.degraded: [Job.status == JobStatus.done, Job.degraded_reason.is_not(None)],
    JobOutcome.failed: [Job.status == JobStatus.failed],
    JobOutcome.timeout: [Job.status == JobStatus.timeout],
    JobOutcome.pending: [Job.status == JobStatus.pending],
}


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the last row's (started_at, id). Rows sort by both, so
    a row inserted between two page requests is never shown twice nor skips one."""

    started_at: datetime
    job_id: str

    def encode(self) -> str:
        raw = json.dumps([self.started_at.isoformat(), self.job_id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            started, job_id = json.loads(raw)
            when = datetime.fromisoformat(started)
        except (binascii.Error, ValueError, TypeError) as error:
            raise InvalidCursor("not a cursor of this job list") from error
        if when.tzinfo is None or not isinstance(job_id, str) or len(job_id) > 64:
            raise InvalidCursor("not a cursor of this job list")
        return cls(when.astimezone(UTC), job_id)


def _conditions(where: JobFilter) -> list[Any]:
    found: list[Any] = []
    if where.slot_id is not None:
        found.append(Job.slot_id == where.slot_id)
    if where.status is not None:
        found.append(Job.status == where.status)
    if where.source is not None:
        found.append(Job.source == where.source)
    if where.outcome is not None:
        found += OUTCOME_CONDITIONS[where.outcome]
    if where.started_from is not None:
        found.append(Job.started_at >= where.started_from)
    if where.started_to is not None:
        found.append(Job.started_at < where.started_to)
    return found


class JobLog:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def page(
        self,
        where: JobFilter,
        *,
        limit: int,
        after: Cursor | None,
        columns: tuple[Any, ...] = LIST_COLUMNS,
    ) -> tuple[list[Row[Any]], Cursor | None]:
        """Up to `limit` jobs newest first, after `after`; and the cursor of the
        next page, or None on the last. The cursor condition is spelled as a range
        on started_at plus a tie-break, so every index that ends in started_at
        (by slot, by status, by source, or alone) serves it on both databases."""
        conditions = _conditions(where)
        if after is not None:
            conditions.append(Job.started_at <= after.started_at)
            conditions.append(
                or_(
                    Job.started_at < after.started_at,
                    and_(Job.started_at == after.started_at, Job.id < after.job_id),
                )
            )
        query = (
            select(*columns)
            .where(*conditions)
            .order_by(Job.started_at.desc(), Job.id.desc())
            .limit(limit + 1)
        )
        rows = list(self.connection.execute(query))
        if len(rows) <= limit:
            return rows, None
        rows = rows[:limit]
        return rows, Cursor(rows[-1].started_at, rows[-1].id)
