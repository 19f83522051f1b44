"""Statistics for the admin's dashboard and charts (SPEC §6.6, §10)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from photochanger.auth.dependencies import AdminUser
from photochanger.errors import NotAuthenticated, ValidationFailed, error_responses
from photochanger.stats.dependencies import StatsServiceDep
from photochanger.stats.schemas import (
    FailureBreakdown,
    Overview,
    SlotsStats,
    StatsSource,
    TimeSeries,
)

router = APIRouter(tags=["stats"])

MAX_WINDOW_MINUTES = 30 * 24 * 60
MAX_BUCKETS = 1000
ERRORS = error_responses(NotAuthenticated, ValidationFailed)

WindowMinutes = Annotated[
    int, Query(ge=1, le=MAX_WINDOW_MINUTES, description="The window: the last N minutes.")
]
Source = Annotated[
    StatsSource,
    Query(description="Which jobs count: `ingest` (the booths, default), `ui_test`, or `all`."),
]


@dataclass(frozen=True)
class Window:
    source: StatsSource
    minutes: int


async def window(window_minutes: WindowMinutes = 60, source: Source = "ingest") -> Window:
    return Window(source, window_minutes)


WindowDep = Annotated[Window, Depends(window)]


@router.get("/api/stats/overview", responses=ERRORS)
async def overview(admin: AdminUser, stats: StatsServiceDep, last: WindowDep) -> Overview:
    """The whole system and each of the 15 slots: jobs started in the window by
    outcome, all-time job count, storage used; per slot also its last success
    and its last error (any time)."""
    return await stats.overview(last.source, last.minutes)


@router.get("/api/stats/slots", responses=ERRORS)
async def slots(admin: AdminUser, stats: StatsServiceDep, last: WindowDep) -> SlotsStats:
    """Active slots that had jobs in the window, with their counts,
    `success_rate` and `timeout_rate` (shares of the jobs started in the window)."""
    return await stats.slots(last.source, last.minutes)


@router.get("/api/stats/timeseries", responses=ERRORS)
async def timeseries(
    admin: AdminUser,
    stats: StatsServiceDep,
    window_minutes: WindowMinutes = 24 * 60,
    bucket_minutes: Annotated[int, Query(ge=1, le=24 * 60)] = 60,
    slot_id: Annotated[
        str | None, Query(pattern=r"^slot-\d{3}$", description="One slot; all when absent.")
    ] = None,
    source: Source = "ingest",
) -> TimeSeries:
    """Jobs per time bucket by outcome, with the p50 and p95 duration of the
    bucket's finished jobs (nearest rank), for all slots or one. Buckets are
    aligned to their size (hours start on the hour, UTC), oldest first; at most
    1000 per answer."""
    if window_minutes // bucket_minutes + 2 > MAX_BUCKETS:
        raise ValidationFailed(
            "too many buckets",
            [{"field": "query.bucket_minutes", "message": f"at most {MAX_BUCKETS} buckets"}],
        )
    return await stats.timeseries(source, window_minutes, bucket_minutes, slot_id)


@router.get("/api/stats/failures", responses=ERRORS)
async def failures(admin: AdminUser, stats: StatsServiceDep, last: WindowDep) -> FailureBreakdown:
    """Failed and timed-out jobs of the window by slot, provider and failure
    reason (SPEC §10 "failure reasons in view"), most frequent first per slot."""
    return await stats.failures(last.source, last.minutes)
