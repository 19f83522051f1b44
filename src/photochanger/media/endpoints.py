from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import Connection, Row
from starlette.responses import StreamingResponse

from photochanger.dependencies import ServicesDep
from photochanger.errors import ResultExpired, ResultNotFound
from photochanger.ingest.media_type import EXTENSIONS
from photochanger.jobs.repository import JobRepository
from photochanger.media.repository import MediaRepository
from photochanger.models.base import utcnow

router = APIRouter(tags=["public"])


@router.get(
    "/public/results/{job_id:path}",
    responses={
        200: {"description": "The result image, as an attachment.", "content": {"image/*": {}}},
        404: {"description": "`result_not_found`: unknown job, or not done"},
        410: {"description": "`result_expired`: past `result_expires_at`"},
    },
    response_class=StreamingResponse,
)
async def public_result(job_id: str, services: ServicesDep) -> StreamingResponse:
    """Download the result of a done job (SPEC §5.2). Job ids carry 144 random
    bits, so the link is the capability. After the result's expiry it answers 410
    and removes the file if cleanup has not yet."""
    if len(job_id) > 64:
        raise ResultNotFound("no such result")

    def look_up(connection: Connection) -> tuple[Row[Any], bool]:
        job = JobRepository(connection).get(job_id)
        if job is None or job.status != "done" or job.result_key is None:
            raise ResultNotFound("no such result")
        now = utcnow()
        expired = job.result_expires_at is not None and job.result_expires_at <= now
        if expired:
            MediaRepository(connection).mark_cleaned(job.result_key, now)
        return job, expired

    job, expired = await services.database.write(look_up)
    assert job.result_key is not None
    assert job.result_mime is not None
    if expired:
        await services.store.delete(job.result_key)
        raise ResultExpired("this result has expired")
    if not await services.store.exists(job.result_key):
        raise ResultExpired("this result is no longer stored")
    filename = f"photochanger-{job.id}.{EXTENSIONS.get(job.result_mime, 'bin')}"
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "private, max-age=3600",
        "X-Content-Type-Options": "nosniff",
    }
    if job.result_size is not None:
        headers["Content-Length"] = str(job.result_size)
    return StreamingResponse(
        services.store.stream(job.result_key), media_type=job.result_mime, headers=headers
    )
