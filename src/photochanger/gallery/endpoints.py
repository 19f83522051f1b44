"""The gallery's admin routes and its public data (SPEC §6.7); its page is
`web.endpoints.public_gallery_page`."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Body, Request
from starlette.responses import JSONResponse, StreamingResponse

from photochanger.auth.dependencies import AdminUser
from photochanger.dependencies import ConfigDep, StoreDep
from photochanger.errors import (
    CsrfFailed,
    GalleryClosed,
    InvalidRequest,
    NotAuthenticated,
    RateLimited,
    ValidationFailed,
    error_responses,
)
from photochanger.gallery.archive import zip_stream
from photochanger.gallery.dependencies import GalleryServiceDep
from photochanger.gallery.schemas import GalleryView, PublicGallery, ShareRequest, ShareState
from photochanger.gallery.service import CONTENT_CACHE_SECONDS, PAGE_PATH
from photochanger.models.base import utcnow

router = APIRouter(tags=["gallery"])


@router.post(
    "/api/gallery/share",
    responses=error_responses(InvalidRequest, NotAuthenticated, CsrfFailed, ValidationFailed),
)
async def share_gallery(
    admin: AdminUser,
    gallery: GalleryServiceDep,
    body: Annotated[ShareRequest | None, Body()] = None,
) -> ShareState:
    """Open the public gallery for `minutes` (default 15, at most 120) from now;
    sharing again moves the end. Stored in the database, so every replica opens
    it; audited."""
    minutes = (body or ShareRequest()).minutes
    return await gallery.share(minutes, admin.username)


@router.delete("/api/gallery/share", responses=error_responses(NotAuthenticated, CsrfFailed))
async def revoke_gallery(admin: AdminUser, gallery: GalleryServiceDep) -> ShareState:
    """Close the public gallery now, on every replica; audited."""
    return await gallery.revoke(admin.username)


@router.get("/api/gallery", responses=error_responses(NotAuthenticated))
async def admin_gallery(
    admin: AdminUser, gallery: GalleryServiceDep, config: ConfigDep
) -> GalleryView:
    """The share state, the public page's URL and what guests see (or would
    see): up to 10 newest unexpired booth results per active slot, uncached."""
    return await gallery.admin_view(config.public_base_url + PAGE_PATH)


@router.get(
    "/pub/gallery",
    tags=["public"],
    responses=error_responses(GalleryClosed, RateLimited),
    response_model=PublicGallery,
)
async def public_gallery(request: Request, gallery: GalleryServiceDep) -> JSONResponse:
    """The shared gallery's data, for anyone during the share window: per active
    slot its up to 10 newest unexpired results (result and preview links, time).
    403 `gallery_closed` outside the window; 429 `rate_limited` past 30 requests a
    minute from one client. Cacheable for up to 30 s (never past the window's end)."""
    view = await gallery.public_view(_client_ip(request))
    remaining = (view.share_until - utcnow()).total_seconds()
    max_age = max(0, min(int(CONTENT_CACHE_SECONDS), math.floor(remaining)))
    return JSONResponse(
        view.model_dump(mode="json"), headers={"Cache-Control": f"public, max-age={max_age}"}
    )


@router.get(
    "/pub/gallery.zip",
    tags=["public"],
    responses={
        200: {"description": "A ZIP of the gallery's photos.", "content": {"application/zip": {}}},
        **error_responses(GalleryClosed, RateLimited),
    },
    response_class=StreamingResponse,
)
async def public_gallery_zip(
    request: Request, gallery: GalleryServiceDep, store: StoreDep
) -> StreamingResponse:
    """Every photo of the shared gallery in one ZIP (one folder per slot),
    streamed as it is written. The same window and rate limit as `/pub/gallery`."""
    files = await gallery.archive_files(_client_ip(request))
    return StreamingResponse(
        zip_stream(store, files),
        media_type="application/zip",
        headers={
            "Content-Disposition": 'attachment; filename="photochanger-gallery.zip"',
            "Cache-Control": "no-store",
        },
    )


def _client_ip(request: Request) -> str:
    # Behind a proxy in PHOTOCHANGER_FORWARDED_ALLOW_IPS, the guest's address.
    return request.client.host if request.client else "unknown"
