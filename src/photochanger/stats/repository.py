"""Statistics that read `job` itself: the slots, each slot's newest outcomes,
and the exact percentiles of buckets shorter than an hour (SPEC §6.6). The
counts come from the rollups (`rollup.py`).

Percentiles here are nearest-rank on both databases (PostgreSQL's
`percentile_disc`; on SQLite the row at that rank, picked by the database with
ORDER BY … OFFSET); buckets are aligned [start, end) ranges of started_at."""

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
    cast,
    extract,
    func,
    select,
)

from photochanger.models import Job, Slot

FINISHED_WITH_DURATION = and_(Job.status != "pending", Job.duration_ms.is_not(None))
PERCENTILES = (50, 95)
ALL_SOURCES = ("ingest", "ui_test")
NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Scope:
    """Which jobs count: their sources (`ingest` by default: the booths), the
    start of the window (inclusive), and the slots."""

    sources: tuple[str, ...]
    since: datetime
    slot_ids: tuple[str, ...]
    """The slots that count: one, or all of them. Naming them lets both
    databases read one started_at range per slot."""

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

    def slots(self) -> list[Row[Any]]:
        query = select(Slot.id, Slot.name, Slot.active, Slot.daily_budget).order_by(Slot.id)
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

    def raw_percentiles(
        self, scope: Scope, origin: int, size: int, timed: dict[int, int]
    ) -> dict[int, dict[int, int | None]]:
        """Per bucket of `size` seconds from `origin` with finished jobs
        (`timed`: how many, per bucket index): p50 and p95 of their durations,
        nearest-rank, exact. For buckets shorter than an hour, which the hourly
        histograms cannot serve: a few hours of jobs at most, as the bucket
        limit keeps such windows short."""
        if self.dialect == "postgresql":
            return self._grouped_percentiles(scope, origin, size)
        found = {}
        for index, count in timed.items():
            start = datetime.fromtimestamp(origin + index * size, UTC)
            end = start + timedelta(seconds=size)
            found[index] = {p: self.nearest_rank(scope, start, end, p, count) for p in PERCENTILES}
        return found

    def _grouped_percentiles(
        self, scope: Scope, origin: int, size: int
    ) -> dict[int, dict[int, int | None]]:
        """PostgreSQL: one pass, grouped by epoch arithmetic, with
        `percentile_disc`, which is nearest-rank."""
        epoch = extract("epoch", Job.started_at)
        bucket = cast(func.floor((epoch - origin) / size), Integer).label("bucket")
        percentiles = [
            func.percentile_disc(p / 100).within_group(Job.duration_ms).label(f"p{p}")
            for p in PERCENTILES
        ]
        query = (
            select(bucket, *percentiles)
            .where(*scope.conditions(), FINISHED_WITH_DURATION)
            .group_by(bucket)
        )
        return {
            int(row.bucket): {p: getattr(row, f"p{p}") for p in PERCENTILES}
            for row in self.connection.execute(query)
        }

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
