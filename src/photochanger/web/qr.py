"""QR codes for guests to scan (SPEC §10): a result's guest page, for the booth
to print or show, and the public gallery, for the admin to put on a screen.
PNGs made by segno (pure Python, a few hundred bytes each)."""

from __future__ import annotations

import io
from typing import Any

import segno
from fastapi import APIRouter
from starlette.responses import Response

from photochanger.dependencies import ConfigDep
from photochanger.gallery.service import PAGE_PATH
from photochanger.media.dependencies import MediaServiceDep

router = APIRouter(tags=["public"])

QR_SCALE = 8
"""Pixels per module: a version-4 code (a 60-character URL) is 328 px, sharp when
printed on a booth's slip and easy for a phone at arm's length."""

PNG: dict[str, Any] = {"content": {"image/png": {}}}


def qr_png(text: str) -> bytes:
    """Black on white whatever the page's theme (scanners expect dark modules on
    a light ground) with the standard 4-module quiet zone; error level M survives
    a smudged print."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=QR_SCALE, border=4)
    return buffer.getvalue()


def guest_page_url(public_base_url: str, job_id: str) -> str:
    return f"{public_base_url}/r/{job_id}"


# Registered before media's `/public/results/{job_id:path}`, which would
# otherwise take `<id>/qr.png` for a job id and answer 404.
@router.get(
    "/public/results/{job_id}/qr.png",
    responses={
        200: {"description": "The QR code of the result's guest page.", **PNG},
        404: {"description": "`result_not_found`: unknown job, or not done"},
        410: {"description": "`result_expired`: past `result_expires_at`"},
    },
    response_class=Response,
)
async def result_qr(job_id: str, media: MediaServiceDep, config: ConfigDep) -> Response:
    """A PNG QR code of the result's guest page, `PHOTOCHANGER_PUBLIC_BASE_URL` +
    `/r/{job_id}`, for the booth to print or show. The same 404 / 410 as the
    result itself: a code is never made for a photo a guest could not open."""
    job = await media.live_result(job_id)
    url = guest_page_url(config.public_base_url, job.id)
    return Response(
        qr_png(url),
        media_type="image/png",
        headers={"Cache-Control": "private, max-age=3600"},
    )


@router.get(
    f"{PAGE_PATH}/qr.png",
    responses={200: {"description": "The QR code of the public gallery page.", **PNG}},
    response_class=Response,
)
async def gallery_qr(config: ConfigDep) -> Response:
    """A PNG QR code of the public gallery's page (`PHOTOCHANGER_PUBLIC_BASE_URL`
    + `/pubgallery`), for the admin to show guests. Public and the same whether
    the gallery is shared or not: the page itself says when it is closed."""
    return Response(
        qr_png(config.public_base_url + PAGE_PATH),
        media_type="image/png",
        headers={"Cache-Control": "public, max-age=3600"},
    )
