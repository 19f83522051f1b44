from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter
from sqlalchemy import Connection, Row
from starlette.responses import Response, StreamingResponse

from photochanger.dependencies import ServicesDep
from photochanger.errors import InternalError, ResultExpired, ResultNotFound
from photochanger.ingest.media_type import EXTENSIONS
from photochanger.jobs.repository import JobRepository
from photochanger.media.provider_media import read_provider_media
from photochanger.media.repository import MediaRepository
from photochanger.models.base import utcnow

router = APIRouter(tags=["public"])
log = structlog.get_logger("photochanger.media")


@router.get(
    "/public/results/{job_id}/preview.webp",
    responses={
        200: {"description": "The result's small WebP preview.", "content": {"image/webp": {}}},
        404: {"description": "`result_not_found`: unknown job, or not done"},
        410: {"description": "`result_expired`: past `result_expires_at`"},
        500: {"description": "`internal_error`: the result cannot be read as an image"},
    },
    response_class=StreamingResponse,
)
async def public_preview(job_id: str, services: ServicesDep) -> StreamingResponse:
    """The WebP preview of a done job's result (at most 512 px), for galleries:
    the same link rules as the result (the job id is the capability; 410 after
    expiry). It is made on the first request and kept until the result expires."""
    job = await services.database.read(lambda connection: JobRepository(connection).get(job_id))
    if job is None or job.status != "done" or job.result_key is None:
        raise ResultNotFound("no such preview")
    if job.result_expires_at is not None and job.result_expires_at <= utcnow():
        raise ResultExpired("this result has expired")
    if not await services.store.exists(job.result_key):
        raise ResultExpired("this result is no longer stored")
    try:
        key = await services.previews.key_for(job)
    except FileNotFoundError:
        raise ResultExpired("this result is no longer stored") from None
    except Exception:
        log.exception("preview_failed", job_id=job.id)
        raise InternalError("the preview could not be made") from None
    return StreamingResponse(
        services.store.stream(key),
        media_type="image/webp",
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


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


@router.get(
    "/public/provider-media/{token:path}",
    responses={
        200: {
            "description": "The input image, for the provider to fetch.",
            "content": {"image/*": {}},
        },
        404: {"description": "`media_not_found`: unknown token"},
        410: {"description": "`media_expired`: the job's deadline passed or it ended"},
    },
    response_class=Response,
)
async def provider_media(token: str, services: ServicesDep) -> Response:
    """An input image of a running job, published for a provider that fetches
    its inputs by URL (SPEC §4.5). The token carries 192 random bits
    and is the only credential. The link answers until the job's deadline or the
    end of the job, whichever is first, then 410 (and the file is removed)."""
    media = await read_provider_media(services.database, services.store, token)
    return Response(
        media.data,
        media_type=media.mime,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )
