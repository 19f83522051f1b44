"""Spend per slot and UTC day, summed in SQL (SPEC §10 "spend in view").

Costs are integer micros (`job.cost_micros`), so the sums are exact on both
databases. They come from the hourly rollups (`job_hour_counts`: each hour's
known costs and how many jobs had one), a day being 24 of them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from photochanger.models import JobHourCounts
from photochanger.stats.repository import Scope
from photochanger.stats.rollup import RollupReader, spent_by_slot

DAY_SECONDS = 24 * 60 * 60


class SpendRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def by_day(self, scope: Scope, days: int) -> list[dict[str, Any]]:
        """Per day and slot with priced jobs, of the `days` UTC days from the
        scope's `since` (a midnight): `day` (its index, 0 the first),
        `slot_id`, `cost_micros` (the sum) and `jobs` (how many had a cost).
        Jobs without a known cost are not counted; free ones (cost 0) are."""
        origin = int(scope.since.timestamp())
        first_hour = origin // 3600
        hours = JobHourCounts.hour
        day = ((hours * 3600 - origin) // DAY_SECONDS).label("day")
        priced = func.sum(JobHourCounts.priced)
        query = (
            select(
                day,
                JobHourCounts.slot_id,
                func.sum(JobHourCounts.cost_micros).label("cost_micros"),
                priced.label("jobs"),
            )
            .where(
                *RollupReader(self.connection, scope.sources, scope.slot_ids).scope(JobHourCounts),
                hours >= first_hour,
                hours < first_hour + days * 24,
            )
            .group_by(day, JobHourCounts.slot_id)
            .having(priced > 0)
            .order_by(day, JobHourCounts.slot_id)
        )
        return [
            {
                "day": int(row.day),
                "slot_id": row.slot_id,
                "cost_micros": int(row.cost_micros),
                "jobs": int(row.jobs),
            }
            for row in self.connection.execute(query)
        ]

    def since_by_slot(self, scope: Scope) -> dict[str, int]:
        """Each slot's known costs (micros) of the scope's jobs started since its
        `since`; a slot without any is left out."""
        reader = RollupReader(self.connection, scope.sources, scope.slot_ids)
        return spent_by_slot(reader, scope.since)
