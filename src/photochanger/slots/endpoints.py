"""The slots API (SPEC §6.2): list, read, save, audit trail, test run."""

from __future__ import annotations

from fastapi import APIRouter, Request

from photochanger.auth.dependencies import AdminUser
from photochanger.dependencies import ServicesDep
from photochanger.errors import (
    InternalError,
    InvalidRequest,
    NotAuthenticated,
    PayloadTooLarge,
    ProviderFailed,
    ProviderTimedOut,
    RateLimited,
    ServiceUnavailable,
    SlotNotFound,
    SlotVersionConflict,
    UnsupportedMediaType,
    ValidationFailed,
    error_responses,
)
from photochanger.ingest.endpoints import receive_and_run
from photochanger.ingest.upload import IngestForm
from photochanger.models.base import utcnow
from photochanger.slots.dependencies import SlotServiceDep
from photochanger.slots.override import SlotOverride
from photochanger.slots.schemas import (
    SlotAudit,
    SlotDetail,
    SlotList,
    SlotUpdate,
    TestRunAnswer,
)

router = APIRouter(tags=["slots"])

TEST_IMAGE_FIELD = "test_image"
SLOT_PAYLOAD_FIELD = "slot_payload"
SLOT_PAYLOAD_LIMIT_BYTES = 192 * 1024
"""Room for a 32,000-character prompt in any script; inside the multipart body's
overhead allowance beyond the file limit."""


@router.get("/api/slots", responses=error_responses(NotAuthenticated))
async def list_slots(slots: SlotServiceDep, _admin: AdminUser) -> SlotList:
    """All 15 slots for the dashboard: name, provider, operation, active, version,
    who saved it last and when, the ingest URL, and when its last job started."""
    return await slots.list_slots()


@router.get("/api/slots/{slot_id}", responses=error_responses(NotAuthenticated, SlotNotFound))
async def get_slot(slot_id: str, slots: SlotServiceDep, _admin: AdminUser) -> SlotDetail:
    """One slot's full configuration, the template images it uses, and its 10
    newest results that have not expired (public and preview links)."""
    return await slots.detail(slot_id)


@router.put(
    "/api/slots/{slot_id}",
    responses=error_responses(
        NotAuthenticated, SlotNotFound, SlotVersionConflict, ValidationFailed
    ),
)
async def save_slot(
    slot_id: str, change: SlotUpdate, slots: SlotServiceDep, admin: AdminUser
) -> SlotDetail:
    """Save a slot. Fields left out keep their values; `settings` (and the
    fallback's) are validated by the operation's settings model and stored as
    it normalises them; `template_media` merges by role (a role not named is
    kept, null removes it). With `version`, a save over a newer version is a 409
    `slot_version_conflict`. The version goes up by one, `updated_by` becomes
    the admin, an audit entry records before and after (secrets masked), and the
    next ingest uses the new configuration. Answers the saved slot."""
    return await slots.update(slot_id, change, admin.username)


@router.get("/api/slots/{slot_id}/audit", responses=error_responses(NotAuthenticated, SlotNotFound))
async def slot_audit(slot_id: str, slots: SlotServiceDep, _admin: AdminUser) -> SlotAudit:
    """Who changed this slot, when, and from what to what; newest first (50)."""
    return await slots.audit(slot_id)


@router.post(
    "/api/slots/{slot_id}/test-run",
    responses=error_responses(
        InvalidRequest,
        NotAuthenticated,
        SlotNotFound,
        PayloadTooLarge,
        UnsupportedMediaType,
        ValidationFailed,
        RateLimited,
        ProviderFailed,
        ServiceUnavailable,
        ProviderTimedOut,
        InternalError,
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": [TEST_IMAGE_FIELD],
                        "properties": {
                            TEST_IMAGE_FIELD: {"type": "string", "format": "binary"},
                            SLOT_PAYLOAD_FIELD: {
                                "type": "string",
                                "description": "JSON of the unsaved form values: provider, "
                                "operation, settings, fallback, template_media (role -> id).",
                            },
                        },
                    }
                }
            },
        }
    },
)
async def run_slot_test(
    slot_id: str,
    request: Request,
    services: ServicesDep,
    slots: SlotServiceDep,
    _admin: AdminUser,
) -> TestRunAnswer:
    """Run a photo through the slot as the booth's ingest would — the same
    parser, checks, limits, deadline, provider chain and result storage — with
    the form's unsaved values (`slot_payload`) applied and nothing saved. No
    ingest password; an inactive slot can be tested; a re-sent photo is run
    again. The job is marked `source=ui_test`. Failures are the ingest's error
    JSON and status codes; an invalid `slot_payload` is a 422 naming the fields."""

    async def prepare(form: IngestForm) -> SlotOverride:
        return await slots.override(slot_id, form.long_fields.get(SLOT_PAYLOAD_FIELD))

    result = await receive_and_run(
        request,
        services,
        slot_id,
        source="ui_test",
        file_field=TEST_IMAGE_FIELD,
        long_fields={SLOT_PAYLOAD_FIELD: SLOT_PAYLOAD_LIMIT_BYTES},
        prepare=prepare,
    )
    return TestRunAnswer(
        job_id=result.job_id,
        status="done",
        public_result_url=result.result_url,
        preview_url=f"{result.result_url}/preview.webp",
        completed_in_seconds=round((utcnow() - result.started_at).total_seconds(), 3),
    )
