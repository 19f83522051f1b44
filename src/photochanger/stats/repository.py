"""Statistics over `job` and `media_object`, aggregated in SQL (SPEC §6.6).

Every statement groups and counts in the database and returns at most one row
per slot or per time bucket; nothing here walks job rows in Python. The same
numbers come out of SQLite and PostgreSQL: outcomes are plain conditions,
buckets are integer epoch arithmetic, and percentiles are nearest-rank on both
(PostgreSQL's `percentile_disc`; on SQLite, the row at that rank picked with
window functions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Row,
    and_,
    cast,
    extract,
    func,
    or_,
    select,
)

from photochanger.models import Job, MediaObject, Slot

DONE = Job.status == "done"
TIMEOUT = Job.status == "timeout"
PENDING = Job.status == "pending"
PROVIDER_ERROR = and_(Job.status == "failed", Job.failure_reason == "provider_error")
OTHER_FAILURE = and_(
    Job.status == "failed",
    or_(Job.failure_reason.is_(None), Job.failure_reason != "provider_error"),
)
FINISHED_WITH_DURATION = and_(Job.status != "pending", Job.duration_ms.is_not(None))
PERCENTILES = (50, 95)
NEVER = datetime.min.replace(tzinfo=UTC)


def outcome_counts() -> tuple[Any, ...]:
    return (
        func.count().label("jobs"),
        func.count().filter(DONE).label("successes"),
        func.count().filter(TIMEOUT).label("timeouts"),
        func.count().filter(PROVIDER_ERROR).label("provider_errors"),
        func.count().filter(OTHER_FAILURE).label("other_failures"),
        func.count().filter(PENDING).label("pending"),
    )


@dataclass(frozen=True)
class Scope:
    """Which jobs count: their sources (`ingest` by default: the booths), the
    start of the window (inclusive), and optionally one slot."""

    sources: tuple[str, ...]
    since: datetime
    slot_id: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found = [self.source_condition(), Job.started_at >= self.since]
        if self.slot_id is not None:
            found.append(Job.slot_id == self.slot_id)
        return found

    def source_condition(self) -> ColumnElement[bool]:
        if len(self.sources) == 1:
            return Job.source == self.sources[0]
        return Job.source.in_(self.sources)


@dataclass(frozen=True)
class SlotLasts:
    slot_id: str
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error_reason: str | None


class StatsRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    def jobs_total(self, sources: Sequence[str]) -> int:
        condition = Job.source.in_(sources) if len(sources) > 1 else Job.source == sources[0]
        return int(self.connection.scalar(select(func.count()).where(condition)) or 0)

    def storage_used(self) -> int:
        """Bytes of every live file in the media store."""
        query = select(func.coalesce(func.sum(MediaObject.size), 0)).where(
            MediaObject.cleaned_at.is_(None)
        )
        return int(self.connection.scalar(query) or 0)

    def slots(self) -> list[Row[Any]]:
        return list(
            self.connection.execute(select(Slot.id, Slot.name, Slot.active).order_by(Slot.id))
        )

    def counts_by_slot(self, scope: Scope) -> list[Row[Any]]:
        query = (
            select(Job.slot_id, *outcome_counts()).where(*scope.conditions()).group_by(Job.slot_id)
        )
        return list(self.connection.execute(query))

    def lasts(self, sources: Sequence[str]) -> dict[str, SlotLasts]:
        """Per slot, of jobs from `sources`: when the last success finished, and
        when the last failure or timeout finished with its reason, at any time.
        Each is the newest row of (slot, source, status) in `ix_job_slot_outcome`:
        a few index probes per slot, however many jobs there are."""
        found: dict[str, SlotLasts] = {}
        for source in sources:
            for row in self.connection.execute(_lasts_query(source)):
                before = found.get(row.id, SlotLasts(row.id, None, None, None))
                successes = [t for t in (before.last_success_at, _aware(row.done_at)) if t]
                error_at, reason = max(
                    (
                        (before.last_error_at, before.last_error_reason),
                        (_aware(row.failed_at), row.failed_reason),
                        (_aware(row.timeout_at), row.timeout_reason),
                    ),
                    key=lambda pair: pair[0] or NEVER,
                )
                found[row.id] = SlotLasts(row.id, max(successes, default=None), error_at, reason)
        return found

    def failures(self, scope: Scope) -> list[Row[Any]]:
        """Failed and timed-out jobs in the window by slot, provider and reason."""
        query = (
            select(
                Job.slot_id,
                Job.provider,
                Job.status,
                Job.failure_reason,
                func.count().label("jobs"),
                func.max(Job.started_at).label("last_started_at"),
            )
            .where(*scope.conditions(), Job.status.in_(("failed", "timeout")))
            .group_by(Job.slot_id, Job.provider, Job.status, Job.failure_reason)
            .order_by(Job.slot_id, func.count().desc(), Job.provider, Job.failure_reason)
        )
        return list(self.connection.execute(query))

    def bucket_index(self, origin: int, bucket_seconds: int) -> ColumnElement[int]:
        """Which bucket a job's start falls in, counted from `origin` (epoch
        seconds, a multiple of the bucket size). Jobs before `origin` are
        filtered out, so the division never meets a negative number."""
        if self.dialect == "sqlite":
            seconds: Any = cast(func.strftime("%s", Job.started_at), Integer)
            return (seconds - origin) // bucket_seconds  # type: ignore[no-any-return]
        return cast(
            func.floor((extract("epoch", Job.started_at) - origin) / bucket_seconds), Integer
        )

    def counts_by_bucket(self, scope: Scope, origin: int, bucket_seconds: int) -> list[Row[Any]]:
        bucket = self.bucket_index(origin, bucket_seconds).label("bucket")
        query = select(bucket, *outcome_counts()).where(*scope.conditions()).group_by(bucket)
        return list(self.connection.execute(query))

    def duration_percentiles(
        self, scope: Scope, origin: int, bucket_seconds: int
    ) -> list[Row[Any]]:
        """(bucket, p50, p95) of the duration of finished jobs, nearest-rank: the
        value at rank ceil(p/100 × n) of the bucket's n durations, ascending."""
        bucket = self.bucket_index(origin, bucket_seconds).label("bucket")
        conditions = [*scope.conditions(), FINISHED_WITH_DURATION]
        if self.dialect == "postgresql":
            query = (
                select(
                    bucket,
                    *(
                        func.percentile_disc(p / 100).within_group(Job.duration_ms).label(f"p{p}")
                        for p in PERCENTILES
                    ),
                )
                .where(*conditions)
                .group_by(bucket)
            )
            return list(self.connection.execute(query))
        ranked = (
            select(
                bucket,
                Job.duration_ms,
                func.row_number().over(partition_by=bucket, order_by=Job.duration_ms).label("rank"),
                func.count().over(partition_by=bucket).label("n"),
            )
            .where(*conditions)
            .subquery()
        )
        # ceil(p × n / 100) in integers: the same rank percentile_disc picks.
        picks = (
            func.min(ranked.c.duration_ms)
            .filter(ranked.c.rank == (p * ranked.c.n + 99) // 100)
            .label(f"p{p}")
            for p in PERCENTILES
        )
        query = select(ranked.c.bucket, *picks).group_by(ranked.c.bucket)
        return list(self.connection.execute(query))


def _lasts_query(source: str) -> Any:
    def newest(status: str, column: Any) -> Any:
        return (
            select(column)
            .where(Job.slot_id == Slot.id, Job.source == source, Job.status == status)
            .order_by(Job.started_at.desc())
            .limit(1)
            .scalar_subquery()
        )

    return select(
        Slot.id,
        newest("done", Job.finished_at).label("done_at"),
        newest("failed", Job.finished_at).label("failed_at"),
        newest("failed", Job.failure_reason).label("failed_reason"),
        newest("timeout", Job.finished_at).label("timeout_at"),
        newest("timeout", Job.failure_reason).label("timeout_reason"),
    )


def _aware(value: datetime | None) -> datetime | None:
    """Scalar subqueries lose the column type on SQLite: naive UTC text comes back."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
