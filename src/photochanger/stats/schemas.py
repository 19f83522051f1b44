"""What the statistics endpoints answer (SPEC §6.6). docs/admin-api.md "Statistics" defines
every number."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

StatsSource = Literal["ingest", "ui_test", "all"]


class OutcomeCounts(BaseModel):
    jobs: int = Field(description="Jobs started in the window, whatever their outcome.")
    successes: int = Field(
        description="Status `done` with the provider's edit (no `degraded_reason`)."
    )
    degraded: int = Field(
        description="Status `done` with a `degraded_reason`: the booth got the guest's own "
        "photo or a free fallback's instead of the edit (SPEC §10)."
    )
    timeouts: int = Field(description="Status `timeout` (the sync window ran out).")
    provider_errors: int = Field(description="Status `failed` with `provider_error`.")
    other_failures: int = Field(description="Status `failed` with any other reason.")
    pending: int = Field(description="Still running.")


class SystemStats(OutcomeCounts):
    cost: float = Field(description="Estimated cost of the window's jobs, in `currency`.")
    jobs_total: int = Field(description="Jobs of these sources, all time.")
    storage_used_bytes: int = Field(description="Sum of the sizes of live media files.")


class SlotOverview(OutcomeCounts):
    slot_id: str
    name: str
    active: bool
    cost: float = Field(description="Estimated cost of its jobs in the window, in `currency`.")
    last_success_at: datetime | None = Field(
        description="When the slot's most recent `done` job finished (any time; a degraded "
        "answer counts here too)."
    )
    last_error_at: datetime | None = Field(
        description="When its most recent failed or timed-out job finished (any time)."
    )
    last_error_reason: str | None


class StatsWindow(BaseModel):
    source: StatsSource
    window_minutes: int
    since: datetime = Field(description="Jobs started at or after this time count.")
    generated_at: datetime


class Overview(StatsWindow):
    currency: str = Field(description="ISO 4217 code of every cost: the price table's.")
    system: SystemStats
    slots: list[SlotOverview]


class SlotRates(OutcomeCounts):
    slot_id: str
    name: str
    cost: float = Field(description="Estimated cost of its jobs in the window, in `currency`.")
    success_rate: float = Field(ge=0, le=1, description="successes / jobs.")
    degraded_rate: float = Field(ge=0, le=1, description="degraded / jobs.")
    timeout_rate: float = Field(ge=0, le=1, description="timeouts / jobs.")


class SlotsStats(StatsWindow):
    currency: str = Field(description="ISO 4217 code of every cost: the price table's.")
    slots: list[SlotRates]


class Bucket(OutcomeCounts):
    start: datetime
    p50_ms: int | None = Field(description="Nearest-rank median duration of finished jobs.")
    p95_ms: int | None = Field(description="Nearest-rank 95th percentile duration.")


class TimeSeries(StatsWindow):
    slot_id: str | None = Field(description="The slot of this series; null for all slots.")
    bucket_minutes: int
    buckets: list[Bucket] = Field(description="Oldest first, every bucket, empty ones too.")


class FailureGroup(BaseModel):
    slot_id: str
    provider: str = Field(description="The slot's primary provider when the jobs started.")
    status: Literal["failed", "timeout", "degraded"] = Field(
        description="`failed` and `timeout` as the job's status; `degraded`: done, but "
        "answered with the guest's own photo or a free fallback's."
    )
    failure_reason: str | None = Field(
        description="The jobs' `failure_reason`; for `degraded`, their `degraded_reason` "
        "(`provider_error:IMAGE_SAFETY`, `timeout`, `budget`, …)."
    )
    jobs: int
    last_started_at: datetime


class FailureBreakdown(StatsWindow):
    failures: list[FailureGroup]


class SlotDaySpend(BaseModel):
    slot_id: str
    cost: float = Field(description="Estimated cost of the slot's priced jobs that day.")
    jobs: int = Field(description="Its jobs with a known cost that day (free ones included).")


class DaySpend(BaseModel):
    date: dt.date = Field(description="A UTC day.")
    total: float = Field(description="Every slot's cost that day.")
    jobs: int = Field(description="Jobs with a known cost that day.")
    slots: list[SlotDaySpend] = Field(
        description="By slot id; a slot without a priced job that day is left out."
    )


class SlotSpend(BaseModel):
    slot_id: str
    name: str
    cost: float = Field(description="Cost of its priced jobs over the days asked for.")
    jobs: int = Field(description="Its jobs with a known cost over those days.")
    today: float = Field(
        description="Spent since 00:00 UTC by jobs of every source: what its budget counts."
    )
    daily_budget: float | None = Field(description="The slot's budget a day; null: none.")
    budget_reached: bool = Field(
        description="`today` is at or over `daily_budget`: paid providers are skipped."
    )


class Spend(BaseModel):
    """What the jobs cost, by day and slot (SPEC §10 "spend in view")."""

    source: StatsSource
    currency: str = Field(description="ISO 4217 code of every amount: the price table's.")
    days: int
    since: dt.date = Field(description="The first day (UTC) counted.")
    generated_at: datetime
    total: float = Field(description="Cost of every priced job of those days.")
    daily: list[DaySpend] = Field(description="Oldest first, every day, empty ones too.")
    slots: list[SlotSpend] = Field(description="All 15 slots.")
