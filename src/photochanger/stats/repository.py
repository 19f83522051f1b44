"""Statistics over `job` and `media_object`, aggregated in SQL (SPEC §6.6).

Every statement groups and counts in the database and returns at most one row
per slot or per time bucket; nothing here walks job rows in Python. The same
numbers come out of SQLite and PostgreSQL: outcomes are plain conditions,
buckets are aligned [start, end) ranges of started_at (grouped by epoch
arithmetic on PostgreSQL, one range query per bucket on SQLite), and
percentiles are nearest-rank on both (PostgreSQL's `percentile_disc`; on SQLite
the row at that rank, picked by the database with ORDER BY … OFFSET)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Row,
    and_,
    case,
    cast,
    extract,
    func,
    or_,
    select,
)

from photochanger.models import Job, MediaObject, Slot

DONE = Job.status == "done"
SUCCESS = and_(DONE, Job.degraded_reason.is_(None))
DEGRADED = and_(DONE, Job.degraded_reason.is_not(None))
TIMEOUT = Job.status == "timeout"
PENDING = Job.status == "pending"
PROVIDER_ERROR = and_(Job.status == "failed", Job.failure_reason == "provider_error")
OTHER_FAILURE = and_(
    Job.status == "failed",
    or_(Job.failure_reason.is_(None), Job.failure_reason != "provider_error"),
)
FINISHED_WITH_DURATION = and_(Job.status != "pending", Job.duration_ms.is_not(None))
PERCENTILES = (50, 95)
ALL_SOURCES = ("ingest", "ui_test")
NEVER = datetime.min.replace(tzinfo=UTC)


def outcome_counts() -> tuple[Any, ...]:
    return (
        func.count().label("jobs"),
        func.count().filter(SUCCESS).label("successes"),
        func.count().filter(DEGRADED).label("degraded"),
        func.count().filter(TIMEOUT).label("timeouts"),
        func.count().filter(PROVIDER_ERROR).label("provider_errors"),
        func.count().filter(OTHER_FAILURE).label("other_failures"),
        func.count().filter(PENDING).label("pending"),
    )


@dataclass(frozen=True)
class Scope:
    """Which jobs count: their sources (`ingest` by default: the booths), the
    start of the window (inclusive), and the slots."""

    sources: tuple[str, ...]
    since: datetime
    slot_ids: tuple[str, ...]
    """The slots that count: one, or all of them. Naming them lets both
    databases read `ix_job_window` (source, slot_id, started_at, …) as one
    started_at range per slot."""

    def conditions(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[ColumnElement[bool]]:
        """The scope's jobs, or those of it started in [since, until): one lower
        bound only, so the index range starts there."""
        found = [
            self.source_condition(),
            Job.slot_id == self.slot_ids[0]
            if len(self.slot_ids) == 1
            else Job.slot_id.in_(self.slot_ids),
            Job.started_at >= (since or self.since),
        ]
        if until is not None:
            found.append(Job.started_at < until)
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
        """All jobs of these sources: every job less those of the other sources.
        A bare count(*) is one b-tree count on SQLite and the admins' test runs
        are few, where counting the booth jobs themselves walked a million
        index entries (bench/README.md)."""
        total = int(self.connection.scalar(select(func.count()).select_from(Job)) or 0)
        others = [source for source in ALL_SOURCES if source not in sources]
        if others:
            query = select(func.count()).where(Job.source.in_(others))
            total -= int(self.connection.scalar(query) or 0)
        return total

    def storage_used(self) -> int:
        """Bytes of every live file in the media store."""
        query = select(func.coalesce(func.sum(MediaObject.size), 0)).where(
            MediaObject.cleaned_at.is_(None)
        )
        return int(self.connection.scalar(query) or 0)

    def slots(self) -> list[Row[Any]]:
        query = select(Slot.id, Slot.name, Slot.active, Slot.daily_budget).order_by(Slot.id)
        return list(self.connection.execute(query))

    def counts_by_slot(self, scope: Scope) -> list[Row[Any]]:
        """Per slot with jobs in the scope: the outcome counts and `cost_micros`,
        the sum of the known costs (0 when none is known)."""
        cost = func.coalesce(func.sum(Job.cost_micros), 0).label("cost_micros")
        query = (
            select(Job.slot_id, *outcome_counts(), cost)
            .where(*scope.conditions())
            .group_by(Job.slot_id)
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
        """Failed, timed-out and degraded jobs in the window by slot, provider,
        `outcome` (the status, `degraded` for a degraded `done`) and `reason`
        (the failure reason, the degraded reason for a degraded job). The labels
        are not the columns' names: PostgreSQL reads a GROUP BY name as the
        column before the label."""
        outcome = case((DONE, "degraded"), else_=Job.status).label("outcome")
        reason = case((DONE, Job.degraded_reason), else_=Job.failure_reason).label("reason")
        query = (
            select(
                Job.slot_id,
                Job.provider,
                outcome,
                reason,
                func.count().label("jobs"),
                func.max(Job.started_at).label("last_started_at"),
            )
            .where(*scope.conditions(), or_(Job.status.in_(("failed", "timeout")), DEGRADED))
            .group_by(Job.slot_id, Job.provider, outcome, reason)
            .order_by(Job.slot_id, func.count().desc(), Job.provider, reason, outcome)
        )
        return list(self.connection.execute(query))

    def buckets(
        self, scope: Scope, origin: int, bucket_seconds: int, count: int
    ) -> list[dict[str, Any]]:
        """Per non-empty bucket of the `count` from `origin` (epoch seconds, a
        multiple of the bucket size): its index, the outcome counts, and p50/p95
        of the duration of its finished jobs, nearest-rank: the value at rank
        ceil(p/100 × n) of the bucket's n durations in ascending order."""
        timed = func.count().filter(FINISHED_WITH_DURATION).label("timed")
        if self.dialect == "postgresql":
            return self._grouped_buckets(scope, origin, bucket_seconds, timed)
        found = []
        for index in range(count):
            start = datetime.fromtimestamp(origin + index * bucket_seconds, UTC)
            end = start + timedelta(seconds=bucket_seconds)
            # One index range per bucket and slot, counted without sorting: a
            # GROUP BY over strftime() parsed and sorted every row, 2x slower.
            query = select(*outcome_counts(), timed).where(*scope.conditions(start, end))
            entry = self.connection.execute(query).one()._asdict()
            if entry["jobs"]:
                for p in PERCENTILES:
                    entry[f"p{p}"] = self.nearest_rank(scope, start, end, p, entry["timed"])
                found.append({"bucket": index, **entry})
        return found

    def _grouped_buckets(
        self, scope: Scope, origin: int, bucket_seconds: int, timed: Any
    ) -> list[dict[str, Any]]:
        """PostgreSQL: one pass, grouped by epoch arithmetic, with
        `percentile_disc`, which is nearest-rank."""
        epoch = extract("epoch", Job.started_at)
        bucket = cast(func.floor((epoch - origin) / bucket_seconds), Integer).label("bucket")
        percentiles = [
            func.percentile_disc(p / 100)
            .within_group(Job.duration_ms)
            .filter(FINISHED_WITH_DURATION)
            .label(f"p{p}")
            for p in PERCENTILES
        ]
        query = (
            select(bucket, *outcome_counts(), timed, *percentiles)
            .where(*scope.conditions())
            .group_by(bucket)
        )
        # The percentiles sort a day of durations: in memory, not in temp files
        # as the default 4 MB would (for this transaction only).
        self.connection.exec_driver_sql("SET LOCAL work_mem = '64MB'")
        return [row._asdict() for row in self.connection.execute(query)]

    def nearest_rank(
        self, scope: Scope, start: datetime, end: datetime, percent: int, count: int
    ) -> int | None:
        """SQLite's percentile_disc: the duration at rank ceil(p × n / 100) of the
        `count` finished jobs started in [start, end), picked by the database
        with ORDER BY … OFFSET. From the far end when that is nearer, so the
        sort keeps few rows (p95 keeps 5 %). Window functions gave the same
        numbers, three times slower (bench/README.md)."""
        if count == 0:
            return None
        rank = (percent * count + 99) // 100  # ceil in integers
        ascending = rank <= count - rank + 1
        order = Job.duration_ms.asc() if ascending else Job.duration_ms.desc()
        query = (
            select(Job.duration_ms)
            .where(*scope.conditions(start, end), FINISHED_WITH_DURATION)
            .order_by(order)
            .offset(rank - 1 if ascending else count - rank)
            .limit(1)
        )
        value = self.connection.scalar(query)
        return None if value is None else int(value)


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
