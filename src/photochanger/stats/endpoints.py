"""Statistics for the admin's dashboard and charts (SPEC §6.6, §10)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from photochanger.auth.dependencies import AdminUser
from photochanger.errors import NotAuthenticated, ValidationFailed, error_responses
from photochanger.stats.dependencies import StatsServiceDep
from photochanger.stats.schemas import (
    FailureBreakdown,
    Overview,
    SlotsStats,
    Spend,
    StatsSource,
    TimeSeries,
)

router = APIRouter(tags=["stats"])

MAX_WINDOW_MINUTES = 30 * 24 * 60
MAX_BUCKETS = 1000
MAX_SPEND_DAYS = 92
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


@dataclass(frozen=True)
class SpendPeriod:
    source: StatsSource
    days: int


async def spend_period(
    days: Annotated[
        int,
        Query(
            ge=1,
            le=MAX_SPEND_DAYS,
            description="How many UTC days, today the last (1–92).",
        ),
    ] = 7,
    source: Annotated[
        StatsSource,
        Query(
            description="Which jobs count: `all` (default: the admins' test runs cost "
            "money too), `ingest` or `ui_test`."
        ),
    ] = "all",
) -> SpendPeriod:
    return SpendPeriod(source, days)


SpendPeriodDep = Annotated[SpendPeriod, Depends(spend_period)]


@router.get("/api/stats/overview", responses=ERRORS)
async def overview(admin: AdminUser, stats: StatsServiceDep, last: WindowDep) -> Overview:
    """The whole system and each of the 15 slots: jobs started in the window by
    outcome (a degraded answer apart from a success) and their estimated cost,
    all-time job count, storage used; per slot also its last success and its
    last error (any time)."""
    return await stats.overview(last.source, last.minutes)


@router.get("/api/stats/slots", responses=ERRORS)
async def slots(admin: AdminUser, stats: StatsServiceDep, last: WindowDep) -> SlotsStats:
    """Active slots that had jobs in the window, with their counts, cost,
    `success_rate`, `degraded_rate` and `timeout_rate` (shares of the jobs
    started in the window)."""
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
    """Failed, timed-out and degraded jobs of the window by slot, provider and
    reason (SPEC §10 "failure reasons in view"), most frequent first per slot.
    A degraded job is done but answered with the guest's own photo or a free
    fallback's; its reason is its `degraded_reason` (a safety refusal:
    `provider_error:IMAGE_SAFETY`)."""
    return await stats.failures(last.source, last.minutes)


@router.get("/api/stats/spend", responses=ERRORS)
async def spend(admin: AdminUser, stats: StatsServiceDep, period: SpendPeriodDep) -> Spend:
    """The estimated cost of the jobs (SPEC §10 "spend in view") on each of the
    last `days` UTC days, today the last, in the price table's currency: per day
    its total and its slots; per slot its total over the days, what it spent
    today (every source: what its `daily_budget` counts) and whether it reached
    that budget. `jobs` counts the jobs with a known cost; a job of an unpriced
    model has none and counts nowhere here."""
    return (await stats.spend(period.source, period.days)).answer()


@router.get(
    "/api/stats/spend.csv",
    response_class=Response,
    responses={
        200: {"description": "The spend as CSV.", "content": {"text/csv": {}}},
        **ERRORS,
    },
)
async def spend_csv(admin: AdminUser, stats: StatsServiceDep, period: SpendPeriodDep) -> Response:
    """The spend of `GET /api/stats/spend` as a CSV download: a header
    `date,slot_id,slot_name,jobs,cost,currency`, then a row per day and slot
    with jobs of a known cost, oldest day first. `cost` has six decimals; a
    slot name a spreadsheet would run as a formula gets a leading apostrophe."""
    figures = await stats.spend(period.source, period.days)
    return Response(
        figures.csv_text(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{figures.file_name}"',
            "Cache-Control": "no-store",
        },
    )
