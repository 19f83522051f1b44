"""Assembles the statistics answers from the repository's aggregates (at most a
row per slot or bucket each), one read unit of work per answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row

from photochanger.db import Database
from photochanger.models.base import utcnow
from photochanger.stats.repository import Scope, StatsRepository
from photochanger.stats.schemas import (
    Bucket,
    FailureBreakdown,
    FailureGroup,
    Overview,
    SlotOverview,
    SlotRates,
    SlotsStats,
    StatsSource,
    StatsWindow,
    SystemStats,
    TimeSeries,
)

COUNT_FIELDS = ("jobs", "successes", "timeouts", "provider_errors", "other_failures", "pending")
ZERO = dict.fromkeys(COUNT_FIELDS, 0)


def sources_of(source: StatsSource) -> tuple[str, ...]:
    return ("ingest", "ui_test") if source == "all" else (source,)


def _counts(row: Row[Any] | None) -> dict[str, int]:
    return ZERO if row is None else {name: int(getattr(row, name)) for name in COUNT_FIELDS}


class StatsService:
    def __init__(self, database: Database) -> None:
        self.database = database

    @staticmethod
    def _window(source: StatsSource, window_minutes: int) -> StatsWindow:
        now = utcnow()
        return StatsWindow(
            source=source,
            window_minutes=window_minutes,
            since=now - timedelta(minutes=window_minutes),
            generated_at=now,
        )

    async def overview(self, source: StatsSource, window_minutes: int) -> Overview:
        window = self._window(source, window_minutes)
        sources = sources_of(source)
        scope = Scope(sources, window.since)

        def read(connection: Connection) -> Overview:
            stats = StatsRepository(connection)
            counts = {row.slot_id: _counts(row) for row in stats.counts_by_slot(scope)}
            lasts = stats.lasts(sources)
            slots = [
                SlotOverview(
                    slot_id=slot.id,
                    name=slot.name,
                    active=slot.active,
                    **counts.get(slot.id, ZERO),
                    last_success_at=lasts[slot.id].last_success_at,
                    last_error_at=lasts[slot.id].last_error_at,
                    last_error_reason=lasts[slot.id].last_error_reason,
                )
                for slot in stats.slots()
            ]
            system = SystemStats(
                **{name: sum(getattr(slot, name) for slot in slots) for name in COUNT_FIELDS},
                jobs_total=stats.jobs_total(sources),
                storage_used_bytes=stats.storage_used(),
            )
            return Overview(**window.model_dump(), system=system, slots=slots)

        return await self.database.read(read)

    async def slots(self, source: StatsSource, window_minutes: int) -> SlotsStats:
        window = self._window(source, window_minutes)
        scope = Scope(sources_of(source), window.since)

        def read(connection: Connection) -> SlotsStats:
            stats = StatsRepository(connection)
            counts = {row.slot_id: _counts(row) for row in stats.counts_by_slot(scope)}
            rated = []
            for slot in stats.slots():
                found = counts.get(slot.id)
                if not slot.active or found is None or not found["jobs"]:
                    continue
                rated.append(
                    SlotRates(
                        slot_id=slot.id,
                        name=slot.name,
                        **found,
                        success_rate=found["successes"] / found["jobs"],
                        timeout_rate=found["timeouts"] / found["jobs"],
                    )
                )
            return SlotsStats(**window.model_dump(), slots=rated)

        return await self.database.read(read)

    async def timeseries(
        self, source: StatsSource, window_minutes: int, bucket_minutes: int, slot_id: str | None
    ) -> TimeSeries:
        """Buckets are aligned to multiples of their size since the Unix epoch (an
        hour bucket starts on the hour, UTC); the first is the one holding the
        window's start, and the whole of it counts."""
        window = self._window(source, window_minutes)
        size = bucket_minutes * 60
        origin = int(window.since.timestamp()) // size * size
        last = int(window.generated_at.timestamp()) // size * size
        aligned = window.model_copy(update={"since": datetime.fromtimestamp(origin, UTC)})
        scope = Scope(sources_of(source), aligned.since, slot_id)

        def read(connection: Connection) -> tuple[list[Row[Any]], list[Row[Any]]]:
            stats = StatsRepository(connection)
            return (
                stats.counts_by_bucket(scope, origin, size),
                stats.duration_percentiles(scope, origin, size),
            )

        counted, percentiles = await self.database.read(read)
        counts = {int(row.bucket): _counts(row) for row in counted}
        spread = {int(row.bucket): (row.p50, row.p95) for row in percentiles}
        buckets = [
            Bucket(
                start=datetime.fromtimestamp(origin + index * size, UTC),
                **counts.get(index, ZERO),
                p50_ms=spread.get(index, (None, None))[0],
                p95_ms=spread.get(index, (None, None))[1],
            )
            for index in range((last - origin) // size + 1)
        ]
        return TimeSeries(
            **aligned.model_dump(), slot_id=slot_id, bucket_minutes=bucket_minutes, buckets=buckets
        )

    async def failures(self, source: StatsSource, window_minutes: int) -> FailureBreakdown:
        window = self._window(source, window_minutes)
        scope = Scope(sources_of(source), window.since)
        rows = await self.database.read(
            lambda connection: StatsRepository(connection).failures(scope)
        )
        return FailureBreakdown(
            **window.model_dump(),
            failures=[FailureGroup.model_validate(row._asdict()) for row in rows],
        )
