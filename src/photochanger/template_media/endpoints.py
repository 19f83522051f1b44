"""The template media API (SPEC §6.3)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response, StreamingResponse

from photochanger.auth.dependencies import AdminUser
from photochanger.config import GLOBAL_UPLOAD_CAP_MB, MB
from photochanger.dependencies import ConfigDep, StoreDep
from photochanger.errors import (
    CsrfFailed,
    InvalidRequest,
    MediaInUse,
    MediaNotFound,
    NotAuthenticated,
    PayloadTooLarge,
    ServiceUnavailable,
    SlotNotFound,
    UnsupportedMediaType,
    ValidationFailed,
    error_responses,
)
from photochanger.multipart import (
    BINARY_PART,
    declared_length,
    multipart_request_body,
    parse_upload_form,
)
from photochanger.template_media.dependencies import TemplateMediaServiceDep
from photochanger.template_media.schemas import TEMPLATE_ROLES, TemplateMediaInfo, TemplateMediaList
from photochanger.template_media.service import FILE_FIELD, ROLE_FIELD, SLOT_FIELD

router = APIRouter(tags=["template media"])

UPLOAD_LIMIT_BYTES = GLOBAL_UPLOAD_CAP_MB * MB


@router.post(
    "/api/template-media",
    status_code=201,
    responses=error_responses(
        InvalidRequest,
        NotAuthenticated,
        CsrfFailed,
        SlotNotFound,
        PayloadTooLarge,
        UnsupportedMediaType,
        ValidationFailed,
        ServiceUnavailable,
    ),
    openapi_extra=multipart_request_body(
        {
            FILE_FIELD: BINARY_PART,
            ROLE_FIELD: {"type": "string", "enum": list(TEMPLATE_ROLES)},
            SLOT_FIELD: {"type": "string", "example": "slot-001"},
        },
        required=[FILE_FIELD, ROLE_FIELD, SLOT_FIELD],
    ),
)
async def upload_template_media(
    request: Request, config: ConfigDep, templates: TemplateMediaServiceDep, admin: AdminUser
) -> TemplateMediaInfo:
    """Upload a template image (a background, a style reference, a face) for a
    slot: JPEG, PNG or WebP by its bytes (415 otherwise), at most 20 MB, refused
    while reading (413). It is stored and listed at once, but a slot uses it only
    after `PUT /api/slots/{id}` names it in `template_media` under its role (a
    test run can try it before that)."""
    form = await parse_upload_form(
        request.stream(),
        request.headers.get("content-type"),
        declared_length=declared_length(request.headers.get("content-length")),
        file_limit=UPLOAD_LIMIT_BYTES,
        spool_dir=config.resolved_spool_dir,
        file_field=FILE_FIELD,
    )
    try:
        return await templates.upload(form, admin.username)
    finally:
        if form.file is not None:
            form.file.discard()


@router.get("/api/template-media", responses=error_responses(NotAuthenticated, ValidationFailed))
async def list_template_media(
    templates: TemplateMediaServiceDep,
    _admin: AdminUser,
    slot_id: Annotated[
        str | None,
        # A slot id, as the job log and statistics take it (PostgreSQL would
        # refuse a NUL character in the query SQLite runs).
        Query(pattern=r"^slot-\d{3}$", description="Only those uploaded for this slot."),
    ] = None,
) -> TemplateMediaList:
    """Template images, newest first, with the slot each was uploaded for and the
    slot that uses it (null while unused)."""
    return await templates.list_uploaded(slot_id)


@router.get(
    "/api/template-media/{template_id}/file",
    responses={
        200: {"description": "The image.", "content": {"image/*": {}}},
        **error_responses(NotAuthenticated, MediaNotFound),
    },
    response_class=StreamingResponse,
)
async def template_media_file(
    template_id: str, store: StoreDep, templates: TemplateMediaServiceDep, _admin: AdminUser
) -> StreamingResponse:
    """The template image's bytes, for the slot page's preview and download."""
    row = await templates.get(template_id)
    if not await store.exists(row.key):
        raise MediaNotFound("the template image is no longer stored")
    return StreamingResponse(
        store.stream(row.key),
        media_type=row.mime,
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.delete(
    "/api/template-media/{template_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(NotAuthenticated, CsrfFailed, MediaNotFound, MediaInUse),
)
async def delete_template_media(
    template_id: str, templates: TemplateMediaServiceDep, admin: AdminUser
) -> Response:
    """Delete a template image and its file. 409 `media_in_use` while a slot uses
    it: save the slot with that role removed (null) or replaced first."""
    await templates.delete(template_id, admin.username)
    return Response(status_code=204)
