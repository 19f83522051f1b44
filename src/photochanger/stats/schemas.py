"""What the statistics endpoints answer (SPEC §6.6). docs/admin-api.md "Statistics" defines
every number."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

StatsSource = Literal["ingest", "ui_test", "all"]


class OutcomeCounts(BaseModel):
    jobs: int = Field(description="Jobs started in the window, whatever their outcome.")
    successes: int = Field(description="Status `done`.")
    timeouts: int = Field(description="Status `timeout` (the sync window ran out).")
    provider_errors: int = Field(description="Status `failed` with `provider_error`.")
    other_failures: int = Field(description="Status `failed` with any other reason.")
    pending: int = Field(description="Still running.")


class SystemStats(OutcomeCounts):
    jobs_total: int = Field(description="Jobs of these sources, all time.")
    storage_used_bytes: int = Field(description="Sum of the sizes of live media files.")


class SlotOverview(OutcomeCounts):
    slot_id: str
    name: str
    active: bool
    last_success_at: datetime | None = Field(
        description="When the slot's most recent successful job finished (any time)."
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
    system: SystemStats
    slots: list[SlotOverview]


class SlotRates(OutcomeCounts):
    slot_id: str
    name: str
    success_rate: float = Field(ge=0, le=1, description="successes / jobs.")
    timeout_rate: float = Field(ge=0, le=1, description="timeouts / jobs.")


class SlotsStats(StatsWindow):
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
    provider: str
    status: Literal["failed", "timeout"]
    failure_reason: str | None
    jobs: int
    last_started_at: datetime


class FailureBreakdown(StatsWindow):
    failures: list[FailureGroup]
