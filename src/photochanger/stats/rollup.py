"""Statistics read from the rollups (`models/job_rollup.py`), with the jobs
themselves only for what no rollup row holds whole.

A window [since, now] is read in three parts: the jobs started in its first,
partial minute from `job`; its minutes up to the next full hour from
`job_minute_counts`; every hour after that from `job_hour_counts` (the current
hour's row holds all its jobs so far). So a window of a day or a week reads at
most 59 minute rows and one hour row per hour for each slot and source, however
many jobs it holds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, literal_column, select, text

from photochanger.models import Job, JobHourCounts, JobHourDurations, JobMinuteCounts
from photochanger.models import JobMinuteFailures as Failures
from photochanger.models.job_rollup_sql import COUNT_COLUMNS, COUNTED, FAILED, OUTCOME, REASON

MINUTE = timedelta(minutes=1)
Counts = dict[str, int]


def zero() -> Counts:
    return dict.fromkeys(COUNT_COLUMNS, 0)


@dataclass(frozen=True)
class WindowSplit:
    """Where each part of [since, now] is read: `job` for [since, raw_until),
    minute rows for [first_minute, first_hour × 60), hour rows from `first_hour`."""

    since: datetime
    raw_until: datetime
    first_minute: int
    first_hour: int

    @classmethod
    def of(cls, since: datetime) -> WindowSplit:
        since = since.astimezone(UTC)
        floor = since.replace(second=0, microsecond=0)
        raw_until = floor if floor == since else floor + MINUTE
        first_minute = int(raw_until.timestamp()) // 60
        return cls(since, raw_until, first_minute, -(-first_minute // 60))


def _sums(table: Any) -> list[Any]:
    return [func.coalesce(func.sum(getattr(table, name)), 0).label(name) for name in COUNT_COLUMNS]


def _add(into: Counts, row: Any) -> None:
    for name in COUNT_COLUMNS:
        into[name] += int(getattr(row, name))


def raw_counts() -> list[Any]:
    """The rollups' counts over job rows: the triggers' own conditions
    (`COUNTED`), so the jobs read directly count exactly as the rollups do."""
    return [
        *(func.count().filter(text(COUNTED[name].format(r="job"))).label(name) for name in COUNTED),
        func.coalesce(func.sum(Job.cost_micros), 0).label("cost_micros"),
    ]


def _in(column: Any, values: tuple[str, ...]) -> Any:
    return column == values[0] if len(values) == 1 else column.in_(values)


class RollupReader:
    def __init__(self, connection: Connection, sources: tuple[str, ...], slots: tuple[str, ...]):
        self.connection = connection
        self.sources = sources
        self.slots = slots

    def scope(self, table: Any) -> list[Any]:
        return [_in(table.source, self.sources), _in(table.slot_id, self.slots)]

    def window_counts(self, since: datetime) -> dict[str, Counts]:
        """Per slot with jobs since `since`: the counts of those jobs."""
        split = WindowSplit.of(since)
        found: dict[str, Counts] = {}
        parts = []
        if split.raw_until > split.since:
            parts.append(
                select(Job.slot_id, *raw_counts())
                .where(*self.scope(Job), Job.started_at >= split.since)
                .where(Job.started_at < split.raw_until)
                .group_by(Job.slot_id)
            )
        minutes = JobMinuteCounts.minute
        if split.first_minute < split.first_hour * 60:
            parts.append(
                select(JobMinuteCounts.slot_id, *_sums(JobMinuteCounts))
                .where(*self.scope(JobMinuteCounts), minutes >= split.first_minute)
                .where(minutes < split.first_hour * 60)
                .group_by(JobMinuteCounts.slot_id)
            )
        parts.append(
            select(JobHourCounts.slot_id, *_sums(JobHourCounts))
            .where(*self.scope(JobHourCounts), JobHourCounts.hour >= split.first_hour)
            .group_by(JobHourCounts.slot_id)
        )
        for query in parts:
            for row in self.connection.execute(query):
                _add(found.setdefault(row.slot_id, zero()), row)
        return {slot: counts for slot, counts in found.items() if counts["jobs"]}

    def all_time_jobs(self) -> int:
        query = select(func.coalesce(func.sum(JobHourCounts.jobs), 0)).where(
            _in(JobHourCounts.source, self.sources)
        )
        return int(self.connection.scalar(query) or 0)

    def failures(self, since: datetime) -> list[dict[str, Any]]:
        """Failed, timed-out and degraded jobs since `since` by slot, provider,
        outcome and reason: most frequent first per slot, then by provider,
        reason (none first) and outcome."""
        split = WindowSplit.of(since)
        groups: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        if split.raw_until > split.since:
            self._merge(groups, self._raw_failures(split))
        query = (
            select(
                Failures.slot_id,
                Failures.provider,
                Failures.outcome,
                Failures.reason,
                func.sum(Failures.jobs).label("jobs"),
                func.max(Failures.last_started_at).label("last_started_at"),
            )
            .where(*self.scope(Failures), Failures.minute >= split.first_minute)
            .group_by(Failures.slot_id, Failures.provider, Failures.outcome, Failures.reason)
        )
        self._merge(groups, self.connection.execute(query))
        found = sorted(
            groups.values(),
            key=lambda g: (g["slot_id"], -g["jobs"], g["provider"], g["reason"], g["outcome"]),
        )
        for group in found:
            group["reason"] = group["reason"] or None
        return found

    def _raw_failures(self, split: WindowSplit) -> Iterable[Any]:
        """The window's first, partial minute grouped as the failure rollup
        groups it, with the triggers' own expressions."""
        outcome: Any = literal_column(OUTCOME.format(r="job")).label("outcome")
        reason: Any = literal_column(REASON.format(r="job")).label("reason")
        query = (
            select(
                Job.slot_id,
                Job.provider,
                outcome,
                reason,
                func.count().label("jobs"),
                func.max(Job.started_at).label("last_started_at"),
            )
            .where(*self.scope(Job), Job.started_at >= split.since)
            .where(Job.started_at < split.raw_until, text(FAILED.format(r="job")))
            .group_by(Job.slot_id, Job.provider, outcome, reason)
        )
        return self.connection.execute(query)

    @staticmethod
    def _merge(
        groups: dict[tuple[str, str, str, str], dict[str, Any]], rows: Iterable[Any]
    ) -> None:
        for row in rows:
            key = (row.slot_id, row.provider, row.outcome, row.reason)
            group = groups.get(key)
            last = _aware(row.last_started_at)
            if group is None:
                groups[key] = {
                    "slot_id": row.slot_id,
                    "provider": row.provider,
                    "outcome": row.outcome,
                    "reason": row.reason,
                    "jobs": int(row.jobs),
                    "last_started_at": last,
                }
            else:
                group["jobs"] += int(row.jobs)
                group["last_started_at"] = max(group["last_started_at"], last)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def bucket_counts(reader: RollupReader, origin: int, size: int) -> dict[int, Counts]:
    """Per bucket of `size` seconds from `origin` (both multiples of a minute;
    of an hour when `size` is): the counts of its jobs."""
    table: Any = JobHourCounts if size % 3600 == 0 else JobMinuteCounts
    period, seconds = (table.hour, 3600) if table is JobHourCounts else (table.minute, 60)
    bucket = ((period * seconds - origin) // size).label("bucket")
    query = (
        select(bucket, *_sums(table))
        .where(*reader.scope(table), period >= origin // seconds)
        .group_by(bucket)
    )
    found: dict[int, Counts] = {}
    for row in reader.connection.execute(query):
        _add(found.setdefault(int(row.bucket), zero()), row)
    return found


def hourly_percentiles(
    reader: RollupReader, origin: int, size: int, percents: tuple[int, ...]
) -> dict[int, dict[int, int | None]]:
    """Per bucket of whole hours: each percentile of its durations from the
    hourly histograms (`nearest_rank_of_bins`)."""
    table = JobHourDurations
    bucket = ((table.hour * 3600 - origin) // size).label("bucket")
    query = (
        select(
            bucket,
            table.bin,
            func.sum(table.jobs).label("jobs"),
            func.min(table.min_ms).label("lo"),
            func.max(table.max_ms).label("hi"),
        )
        .where(*reader.scope(table), table.hour >= origin // 3600)
        .group_by(bucket, table.bin)
    )
    bins: dict[int, list[tuple[int, int, int, int]]] = {}
    for row in reader.connection.execute(query):
        bins.setdefault(int(row.bucket), []).append(
            (int(row.bin), int(row.jobs), int(row.lo), int(row.hi))
        )
    return {
        index: {p: nearest_rank_of_bins(found, p) for p in percents}
        for index, found in bins.items()
    }


def nearest_rank_of_bins(bins: list[tuple[int, int, int, int]], percent: int) -> int | None:
    """The duration at rank ceil(p × n / 100) of n durations given as histogram
    bins (bin, count, shortest, longest). Exact when that rank is the first or
    the last of its bin (or the bin holds one duration); otherwise placed
    between the bin's shortest and longest by its rank, so at most one bin's
    width (4 %; exact below 32 ms) from the true value."""
    total = sum(jobs for _, jobs, _, _ in bins)
    if total == 0:
        return None
    rank = (percent * total + 99) // 100
    before = 0
    for _, jobs, lo, hi in sorted(bins):
        if before + jobs >= rank:
            position = rank - before
            if position == 1:
                return lo
            if position == jobs:
                return hi
            return lo + round((hi - lo) * (position - 1) / (jobs - 1))
        before += jobs
    raise AssertionError("the rank lies inside the total")


def spent_by_slot(reader: RollupReader, since: datetime) -> dict[str, int]:
    """Each slot's known costs (micros) since `since`; a slot without any is left out."""
    found = reader.window_counts(since)
    return {slot: counts["cost_micros"] for slot, counts in found.items() if counts["priced"]}
