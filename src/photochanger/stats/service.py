"""Assembles the statistics answers from the repository's aggregates (at most a
row per slot or bucket each), in read units of work."""

from __future__ import annotations

import asyncio
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

        def read(connection: Connection) -> tuple[list[SlotOverview], dict[str, int]]:
            stats = StatsRepository(connection)
            all_slots = stats.slots()
            scope = Scope(sources, window.since, tuple(slot.id for slot in all_slots))
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
                for slot in all_slots
            ]
            return slots, {
                name: sum(getattr(slot, name) for slot in slots) for name in COUNT_FIELDS
            }

        def read_total(connection: Connection) -> int:
            return StatsRepository(connection).jobs_total(sources)

        def read_storage(connection: Connection) -> int:
            return StatsRepository(connection).storage_used()

        # Three reads side by side: the all-time count and the storage sum each
        # walk a large index, independent of the window's numbers.
        (slots, totals), jobs_total, storage = await asyncio.gather(
            self.database.read(read),
            self.database.read(read_total),
            self.database.read(read_storage),
        )
        system = SystemStats(**totals, jobs_total=jobs_total, storage_used_bytes=storage)
        return Overview(**window.model_dump(), system=system, slots=slots)

    async def slots(self, source: StatsSource, window_minutes: int) -> SlotsStats:
        window = self._window(source, window_minutes)

        def read(connection: Connection) -> SlotsStats:
            stats = StatsRepository(connection)
            active = [slot for slot in stats.slots() if slot.active]
            scope = Scope(sources_of(source), window.since, tuple(slot.id for slot in active))
            counts = {row.slot_id: _counts(row) for row in stats.counts_by_slot(scope)}
            rated = []
            for slot in active:
                found = counts.get(slot.id)
                if found is None or not found["jobs"]:
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
        count = (last - origin) // size + 1
        aligned = window.model_copy(update={"since": datetime.fromtimestamp(origin, UTC)})

        def read(connection: Connection) -> list[dict[str, Any]]:
            stats = StatsRepository(connection)
            slots = (slot_id,) if slot_id else tuple(slot.id for slot in stats.slots())
            scope = Scope(sources_of(source), aligned.since, slots)
            return stats.buckets(scope, origin, size, count)

        found = {int(entry["bucket"]): entry for entry in await self.database.read(read)}
        buckets = []
        for index in range(count):
            entry = found.get(index)
            buckets.append(
                Bucket(
                    start=datetime.fromtimestamp(origin + index * size, UTC),
                    **(ZERO if entry is None else {name: entry[name] for name in COUNT_FIELDS}),
                    p50_ms=None if entry is None else entry["p50"],
                    p95_ms=None if entry is None else entry["p95"],
                )
            )
        return TimeSeries(
            **aligned.model_dump(), slot_id=slot_id, bucket_minutes=bucket_minutes, buckets=buckets
        )

    async def failures(self, source: StatsSource, window_minutes: int) -> FailureBreakdown:
        window = self._window(source, window_minutes)

        def read(connection: Connection) -> list[Row[Any]]:
            stats = StatsRepository(connection)
            slots = tuple(slot.id for slot in stats.slots())
            return stats.failures(Scope(sources_of(source), window.since, slots))

        rows = await self.database.read(read)
        return FailureBreakdown(
            **window.model_dump(),
            failures=[FailureGroup.model_validate(row._asdict()) for row in rows],
        )
