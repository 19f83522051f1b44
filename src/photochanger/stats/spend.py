"""Spend in view (SPEC §10): what the jobs cost per slot and UTC day, as JSON
for the statistics page and as CSV for the studio's books.

Amounts are summed as integer micros in SQL and turned into the currency's
amounts only here, so a day's total is the exact sum of its slots."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row

from photochanger.jobs.export import amount_text, csv_cell
from photochanger.providers.pricing import budget_reached, micros_to_amount
from photochanger.stats.repository import ALL_SOURCES, Scope, StatsRepository
from photochanger.stats.schemas import DaySpend, SlotDaySpend, SlotSpend, Spend, StatsSource
from photochanger.stats.spend_repository import SpendRepository

CSV_HEADER = ("date", "slot_id", "slot_name", "jobs", "cost", "currency")


@dataclass(frozen=True)
class SlotDay:
    slot_id: str
    cost_micros: int
    jobs: int


@dataclass(frozen=True)
class SpendFigures:
    """What one read of the database found, in micros."""

    source: StatsSource
    currency: str
    since: date
    generated_at: datetime
    slots: Sequence[Row[Any]]
    """Every slot: id, name, daily_budget."""
    days: list[list[SlotDay]]
    """Per day, oldest first: the slots with priced jobs that day, by id."""
    today: dict[str, int]
    """Per slot, micros spent today by every source (what the budget counts)."""

    def answer(self) -> Spend:
        totals: dict[str, SlotDay] = {}
        daily = []
        for index, entries in enumerate(self.days):
            for entry in entries:
                before = totals.get(entry.slot_id, SlotDay(entry.slot_id, 0, 0))
                totals[entry.slot_id] = SlotDay(
                    entry.slot_id, before.cost_micros + entry.cost_micros, before.jobs + entry.jobs
                )
            daily.append(
                DaySpend(
                    date=self.since + timedelta(days=index),
                    total=micros_to_amount(sum(entry.cost_micros for entry in entries)),
                    jobs=sum(entry.jobs for entry in entries),
                    slots=[
                        SlotDaySpend(
                            slot_id=entry.slot_id,
                            cost=micros_to_amount(entry.cost_micros),
                            jobs=entry.jobs,
                        )
                        for entry in entries
                    ],
                )
            )
        slots = []
        for slot in self.slots:
            total = totals.get(slot.id, SlotDay(slot.id, 0, 0))
            today = self.today.get(slot.id, 0)
            slots.append(
                SlotSpend(
                    slot_id=slot.id,
                    name=slot.name,
                    cost=micros_to_amount(total.cost_micros),
                    jobs=total.jobs,
                    today=micros_to_amount(today),
                    daily_budget=slot.daily_budget,
                    budget_reached=budget_reached(slot.daily_budget, today),
                )
            )
        return Spend(
            source=self.source,
            currency=self.currency,
            days=len(self.days),
            since=self.since,
            generated_at=self.generated_at,
            total=micros_to_amount(sum(total.cost_micros for total in totals.values())),
            daily=daily,
            slots=slots,
        )

    def csv_text(self) -> str:
        """A header, then a row per day and slot with priced jobs, oldest day
        first; text cells guarded against formulas as in the job export."""
        names = {slot.id: slot.name for slot in self.slots}
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_HEADER)
        for index, entries in enumerate(self.days):
            day = (self.since + timedelta(days=index)).isoformat()
            for entry in entries:
                row = (
                    day,
                    entry.slot_id,
                    names.get(entry.slot_id, ""),
                    entry.jobs,
                    amount_text(entry.cost_micros),
                    self.currency,
                )
                writer.writerow([csv_cell(value) for value in row])
        return buffer.getvalue()

    @property
    def file_name(self) -> str:
        last = self.since + timedelta(days=len(self.days) - 1)
        return f"photochanger-spend-{self.since.isoformat()}-{last.isoformat()}.csv"


def read_spend(
    connection: Connection,
    *,
    source: StatsSource,
    sources: tuple[str, ...],
    first_day: datetime,
    days: int,
    today: datetime,
    generated_at: datetime,
    currency: str,
) -> SpendFigures:
    """One read: the slots, the days' sums and today's spend of every source.
    `first_day` and `today` are UTC midnights."""
    slots = StatsRepository(connection).slots()
    slot_ids = tuple(slot.id for slot in slots)
    spend = SpendRepository(connection)
    by_day: list[list[SlotDay]] = [[] for _ in range(days)]
    for row in spend.by_day(Scope(sources, first_day, slot_ids), days):
        if 0 <= row["day"] < days:  # a job stamped ahead of this clock waits its day
            by_day[row["day"]].append(
                SlotDay(row["slot_id"], int(row["cost_micros"]), int(row["jobs"]))
            )
    return SpendFigures(
        source=source,
        currency=currency,
        since=first_day.date(),
        generated_at=generated_at,
        slots=slots,
        days=by_day,
        today=spend.since_by_slot(Scope(ALL_SOURCES, today, slot_ids)),
    )
