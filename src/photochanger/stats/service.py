"""Assembles the statistics answers from the repository's aggregates (at most a
row per slot or bucket each), in read units of work."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from photochanger.db import Database
from photochanger.models import MediaUsage
from photochanger.models.base import utc_midnight, utcnow
from photochanger.providers.pricing import micros_to_amount
from photochanger.settings.repository import SettingRepository
from photochanger.stats.repository import PERCENTILES, Scope, StatsRepository
from photochanger.stats.rollup import (
    Counts,
    RollupReader,
    bucket_counts,
    hourly_percentiles,
)
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
from photochanger.stats.spend import SpendFigures, read_spend

COUNT_FIELDS = (
    "jobs",
    "successes",
    "degraded",
    "timeouts",
    "provider_errors",
    "other_failures",
    "pending",
)
ZERO = dict.fromkeys(COUNT_FIELDS, 0)


def sources_of(source: StatsSource) -> tuple[str, ...]:
    return ("ingest", "ui_test") if source == "all" else (source,)


def _counts(found: Counts | None) -> dict[str, int]:
    return ZERO if found is None else {name: found[name] for name in COUNT_FIELDS}


def _cost(found: Counts | None) -> int:
    return 0 if found is None else found["cost_micros"]


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


class StatsService:
    def __init__(self, database: Database, default_currency: str) -> None:
        self.database = database
        self.default_currency = default_currency
        """The providers' list prices' currency, while no price table is saved."""

    def _currency(self, connection: Connection) -> str:
        return SettingRepository(connection).price_currency() or self.default_currency

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

        def read(connection: Connection) -> tuple[list[SlotOverview], dict[str, int], int, str]:
            stats = StatsRepository(connection)
            all_slots = stats.slots()
            reader = RollupReader(connection, sources, tuple(slot.id for slot in all_slots))
            rows = reader.window_counts(window.since)
            lasts = stats.lasts(sources)
            slots = [
                SlotOverview(
                    slot_id=slot.id,
                    name=slot.name,
                    active=slot.active,
                    **_counts(rows.get(slot.id)),
                    cost=micros_to_amount(_cost(rows.get(slot.id))),
                    last_success_at=lasts[slot.id].last_success_at,
                    last_error_at=lasts[slot.id].last_error_at,
                    last_error_reason=lasts[slot.id].last_error_reason,
                )
                for slot in all_slots
            ]
            totals = {name: sum(getattr(slot, name) for slot in slots) for name in COUNT_FIELDS}
            cost = sum(_cost(found) for found in rows.values())
            return slots, totals, cost, self._currency(connection)

        def read_totals(connection: Connection) -> tuple[int, int]:
            slots = tuple(slot.id for slot in StatsRepository(connection).slots())
            jobs = RollupReader(connection, sources, slots).all_time_jobs()
            stored = select(func.coalesce(func.sum(MediaUsage.bytes), 0))
            return jobs, int(connection.scalar(stored) or 0)

        (slots, totals, cost, currency), (jobs_total, storage) = await asyncio.gather(
            self.database.read(read), self.database.read(read_totals)
        )
        system = SystemStats(
            **totals,
            cost=micros_to_amount(cost),
            jobs_total=jobs_total,
            storage_used_bytes=storage,
        )
        return Overview(**window.model_dump(), currency=currency, system=system, slots=slots)

    async def slots(self, source: StatsSource, window_minutes: int) -> SlotsStats:
        window = self._window(source, window_minutes)

        def read(connection: Connection) -> SlotsStats:
            stats = StatsRepository(connection)
            active = [slot for slot in stats.slots() if slot.active]
            reader = RollupReader(connection, sources_of(source), tuple(s.id for s in active))
            rows = reader.window_counts(window.since)
            rated = []
            for slot in active:
                found = _counts(rows.get(slot.id))
                if not found["jobs"]:
                    continue
                rated.append(
                    SlotRates(
                        slot_id=slot.id,
                        name=slot.name,
                        **found,
                        cost=micros_to_amount(_cost(rows.get(slot.id))),
                        success_rate=_rate(found["successes"], found["jobs"]),
                        degraded_rate=_rate(found["degraded"], found["jobs"]),
                        timeout_rate=_rate(found["timeouts"], found["jobs"]),
                    )
                )
            currency = self._currency(connection)
            return SlotsStats(**window.model_dump(), currency=currency, slots=rated)

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

        def read(
            connection: Connection,
        ) -> tuple[dict[int, Counts], dict[int, dict[int, int | None]]]:
            stats = StatsRepository(connection)
            slots = (slot_id,) if slot_id else tuple(slot.id for slot in stats.slots())
            reader = RollupReader(connection, sources_of(source), slots)
            counts = bucket_counts(reader, origin, size)
            if size % 3600 == 0:
                return counts, hourly_percentiles(reader, origin, size, PERCENTILES)
            timed = {index: found["timed"] for index, found in counts.items() if found["timed"]}
            scope = Scope(sources_of(source), aligned.since, slots)
            return counts, stats.raw_percentiles(scope, origin, size, timed)

        counts, percentiles = await self.database.read(read)
        buckets = []
        for index in range(count):
            ranked = percentiles.get(index, {})
            buckets.append(
                Bucket(
                    start=datetime.fromtimestamp(origin + index * size, UTC),
                    **_counts(counts.get(index)),
                    p50_ms=ranked.get(50),
                    p95_ms=ranked.get(95),
                )
            )
        return TimeSeries(
            **aligned.model_dump(), slot_id=slot_id, bucket_minutes=bucket_minutes, buckets=buckets
        )

    async def failures(self, source: StatsSource, window_minutes: int) -> FailureBreakdown:
        window = self._window(source, window_minutes)

        def read(connection: Connection) -> list[dict[str, Any]]:
            slots = tuple(slot.id for slot in StatsRepository(connection).slots())
            return RollupReader(connection, sources_of(source), slots).failures(window.since)

        groups = await self.database.read(read)
        return FailureBreakdown(
            **window.model_dump(),
            failures=[
                FailureGroup(
                    slot_id=group["slot_id"],
                    provider=group["provider"],
                    status=group["outcome"],
                    failure_reason=group["reason"],
                    jobs=group["jobs"],
                    last_started_at=group["last_started_at"],
                )
                for group in groups
            ],
        )

    async def spend(self, source: StatsSource, days: int) -> SpendFigures:
        """What the jobs of `source` cost on each of the last `days` UTC days
        (today the last), per slot; and each slot's spend today, every source."""
        now = utcnow()
        today = utc_midnight(now)
        first_day = today - timedelta(days=days - 1)
        return await self.database.read(
            lambda connection: read_spend(
                connection,
                source=source,
                sources=sources_of(source),
                first_day=first_day,
                days=days,
                today=today,
                generated_at=now,
                currency=self._currency(connection),
            )
        )
