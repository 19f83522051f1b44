"""The job log and one job's record (SPEC §6.4)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.responses import StreamingResponse

from photochanger.auth.dependencies import AdminUser
from photochanger.errors import (
    JobNotFound,
    NotAuthenticated,
    ValidationFailed,
    error_responses,
)
from photochanger.jobs.dependencies import JobServiceDep
from photochanger.jobs.schemas import JobDetail, JobFilter, JobPage
from photochanger.json_values import JsonDateTime
from photochanger.models.base import utcnow
from photochanger.models.job import JobOutcome, JobSource, JobStatus

router = APIRouter(tags=["jobs"])

MAX_PAGE = 500


async def job_filter(
    slot_id: Annotated[str | None, Query(pattern=r"^slot-\d{3}$")] = None,
    status: JobStatus | None = None,
    source: JobSource | None = None,
    started_from: Annotated[
        JsonDateTime | None,
        Query(alias="from", description="Jobs started at or after this time (ISO 8601)."),
    ] = None,
    started_to: Annotated[
        JsonDateTime | None, Query(alias="to", description="Jobs started before this time.")
    ] = None,
    outcome: Annotated[
        JobOutcome | None,
        Query(
            description="`success` (done with the provider's edit), `degraded` (done with "
            "a `degraded_reason`), `failed`, `timeout` or `pending`."
        ),
    ] = None,
) -> JobFilter:
    problems = [
        {"field": f"query.{name}", "message": "give a time zone (e.g. Z or +03:00)"}
        for name, value in (("from", started_from), ("to", started_to))
        if value is not None and value.tzinfo is None
    ]
    if problems:
        raise ValidationFailed("times need a time zone", problems)
    return JobFilter(slot_id, status, source, started_from, started_to, outcome)


JobFilterDep = Annotated[JobFilter, Depends(job_filter)]


@router.get("/api/jobs", responses=error_responses(NotAuthenticated, ValidationFailed))
async def list_jobs(
    admin: AdminUser,
    jobs: JobServiceDep,
    where: JobFilterDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> JobPage:
    """The job log, newest first, filtered by slot, status, outcome, source and
    start time (`from` inclusive, `to` exclusive). Each job has its `outcome`
    (a degraded answer apart from a success) and estimated `cost`. Pages are
    keyset pages: pass `next_cursor` as `cursor` to get the next, older page;
    jobs that arrive meanwhile do not shift it (no duplicates, no gaps)."""
    return await jobs.page(where, limit=limit, cursor=cursor)


@router.get(
    "/api/jobs.csv",
    response_class=StreamingResponse,
    responses={
        200: {"description": "The job log as CSV.", "content": {"text/csv": {}}},
        **error_responses(NotAuthenticated, ValidationFailed),
    },
)
async def export_jobs(admin: AdminUser, jobs: JobServiceDep, where: JobFilterDep) -> Any:
    """Every job matching the filters as CSV (UTF-8, a header row, newest first),
    streamed page by page. `cost` is an amount with six decimals;
    `booth_metadata` is one JSON cell; a text cell that a spreadsheet would run
    as a formula (starting with `=`, `+`, `-`, `@`) gets a leading apostrophe."""
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        jobs.export(where),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="photochanger-jobs-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/api/jobs/{job_id}", responses=error_responses(NotAuthenticated, JobNotFound))
async def get_job(job_id: str, admin: AdminUser, jobs: JobServiceDep) -> JobDetail:
    """One job: status and outcome, timings, failure reason and details, the
    degraded reason, provider and which configuration produced the result, the
    provider attempts with their usage and cost, the estimated cost, the input
    (size, type, hashes, whether the booth's hash matched) and the photo as a
    remote provider got it, the booth's metadata, and the result with its public
    and preview links while it is kept."""
    return await jobs.detail(job_id)
