"""Spend per slot and UTC day, summed in SQL (SPEC §10 "spend in view").

Costs are integer micros (`job.cost_micros`), so the sums are exact on both
databases. Days are grouped as the time series' buckets are
(`repository.py`): by epoch arithmetic in one pass on PostgreSQL, one range
query per day on SQLite; each reads `ix_job_window` alone, which carries
`cost_micros`."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import Connection, Integer, cast, extract, func, select

from photochanger.models import Job
from photochanger.stats.repository import Scope

DAY_SECONDS = 24 * 60 * 60
PRICED = Job.cost_micros.is_not(None)


def _sums() -> tuple[Any, ...]:
    return (
        Job.slot_id,
        func.sum(Job.cost_micros).label("cost_micros"),
        func.count().label("jobs"),
    )


class SpendRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    def by_day(self, scope: Scope, days: int) -> list[dict[str, Any]]:
        """Per day and slot with priced jobs, of the `days` UTC days from the
        scope's `since` (a midnight): `day` (its index, 0 the first),
        `slot_id`, `cost_micros` (the sum) and `jobs` (how many had a cost).
        Jobs without a known cost are not counted; free ones (cost 0) are."""
        if self.dialect == "postgresql":
            origin = int(scope.since.timestamp())
            day = cast(
                func.floor((extract("epoch", Job.started_at) - origin) / DAY_SECONDS), Integer
            ).label("day")
            query = (
                select(day, *_sums())
                .where(*scope.conditions(), PRICED)
                .group_by(day, Job.slot_id)
                .order_by(day, Job.slot_id)
            )
            return [row._asdict() for row in self.connection.execute(query)]
        found = []
        for index in range(days):
            start = scope.since.astimezone(UTC) + timedelta(days=index)
            query = (
                select(*_sums())
                .where(*scope.conditions(start, start + timedelta(days=1)), PRICED)
                .group_by(Job.slot_id)
                .order_by(Job.slot_id)
            )
            found += [{"day": index, **row._asdict()} for row in self.connection.execute(query)]
        return found

    def since_by_slot(self, scope: Scope) -> dict[str, int]:
        """Each slot's known costs (micros) of the scope's jobs started since its
        `since`; a slot without any is left out."""
        query = select(*_sums()).where(*scope.conditions(), PRICED).group_by(Job.slot_id)
        return {row.slot_id: int(row.cost_micros) for row in self.connection.execute(query)}
