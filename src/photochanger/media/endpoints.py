from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import RedirectResponse, Response, StreamingResponse

from photochanger.dependencies import StoreDep
from photochanger.media.dependencies import MediaServiceDep

router = APIRouter(tags=["public"])


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
async def public_preview(job_id: str, media: MediaServiceDep, store: StoreDep) -> StreamingResponse:
    """The WebP preview of a done job's result (at most 512 px), for galleries:
    the same link rules as the result (the job id is the capability; 410 after
    expiry). It is made on the first request and kept until the result expires."""
    key = await media.preview_key(job_id)
    return StreamingResponse(
        store.stream(key),
        media_type="image/webp",
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get(
    "/public/results/{job_id:path}",
    responses={
        200: {"description": "The result image, as an attachment.", "content": {"image/*": {}}},
        307: {
            "description": "With an S3 media store in `redirect` mode: a short-lived "
            "presigned URL of the image (an attachment too), valid no longer than the result."
        },
        404: {"description": "`result_not_found`: unknown job, or not done"},
        410: {
            "description": "`result_expired`: past `result_expires_at` (in `redirect` "
            "mode also when less than a second of it is left)"
        },
    },
    response_class=StreamingResponse,
)
async def public_result(job_id: str, media: MediaServiceDep, store: StoreDep) -> Response:
    """Download the result of a done job (SPEC §5.2). Job ids carry 144 random
    bits, so the link is the capability. After the result's expiry it answers 410
    and removes the file if cleanup has not yet. A bucket store may answer with a
    redirect to the object instead of streaming it (`PHOTOCHANGER_S3_PUBLIC_RESULTS`),
    presigned for `PHOTOCHANGER_S3_PRESIGN_SECONDS` or until the result expires,
    whichever is sooner."""
    result = await media.result(job_id)
    location = await store.download_url(
        result.key, filename=result.filename, mime=result.mime, expires_at=result.expires_at
    )
    if location is not None:
        # The signed URL expires: neither it nor this answer may be cached.
        return RedirectResponse(location, status_code=307, headers={"Cache-Control": "no-store"})
    headers = {
        "Content-Disposition": f'attachment; filename="{result.filename}"',
        "Cache-Control": "private, max-age=3600",
        "X-Content-Type-Options": "nosniff",
    }
    if result.size is not None:
        headers["Content-Length"] = str(result.size)
    return StreamingResponse(store.stream(result.key), media_type=result.mime, headers=headers)


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
async def provider_media(token: str, media: MediaServiceDep) -> Response:
    """An input image of a running job, published for a provider that fetches
    its inputs by URL (SPEC §4.5). The token carries 192 random bits
    and is the only credential. The link answers until the job's deadline or the
    end of the job, whichever is first, then 410 (and the file is removed)."""
    published = await media.provider_media(token)
    return Response(
        published.data,
        media_type=published.mime,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )
