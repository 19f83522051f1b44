"""The admin's door (SPEC §6.2): a test run of a slot, through the ingest's own
path, with the slot form's unsaved values applied."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from photochanger.auth.dependencies import AdminUser
from photochanger.dependencies import ServicesDep
from photochanger.errors import (
    CsrfFailed,
    InternalError,
    InvalidRequest,
    NotAuthenticated,
    PayloadTooLarge,
    ProviderFailed,
    ProviderTimedOut,
    RateLimited,
    ServiceUnavailable,
    SlotNotFound,
    UnsupportedMediaType,
    ValidationFailed,
    error_responses,
)
from photochanger.ingest.door import SLOT_PAYLOAD_FIELD, TEST_IMAGE_FIELD, TEST_RUN
from photochanger.ingest.endpoints import receive_and_run
from photochanger.media.links import preview_url
from photochanger.models.base import utcnow
from photochanger.multipart import BINARY_PART, UploadForm, multipart_request_body
from photochanger.slots.dependencies import SlotServiceDep
from photochanger.slots.override import SlotOverride

router = APIRouter(tags=["slots"])


class TestRunAnswer(BaseModel):
    job_id: str
    status: Literal["done"]
    public_result_url: str
    preview_url: str
    completed_in_seconds: float
    degraded_reason: str | None = Field(
        default=None,
        description="Set when the answer is not the provider's edit (SPEC §10): the "
        "guest's own photo (`on_failure: original`) or a free fallback's, and why.",
    )
    produced_by: str | None = Field(
        default=None, description="The provider whose image this is, or `original`."
    )


@router.post(
    "/api/slots/{slot_id}/test-run",
    responses=error_responses(
        InvalidRequest,
        NotAuthenticated,
        CsrfFailed,
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
    openapi_extra=multipart_request_body(
        {
            TEST_IMAGE_FIELD: BINARY_PART,
            SLOT_PAYLOAD_FIELD: {
                "type": "string",
                "description": "JSON of the unsaved form values: provider, "
                "operation, settings, fallback, on_failure, max_input_megapixels, "
                "keep_metadata, template_media (role -> id).",
            },
        },
        required=[TEST_IMAGE_FIELD],
    ),
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

    async def read_override(form: UploadForm) -> SlotOverride:
        return await slots.override(slot_id, form.long_fields.get(SLOT_PAYLOAD_FIELD))

    result = await receive_and_run(
        request, services, slot_id, TEST_RUN, read_override=read_override
    )
    return TestRunAnswer(
        job_id=result.job_id,
        status="done",
        public_result_url=result.result_url,
        preview_url=preview_url(result.job_id, services.config.public_base_url),
        completed_in_seconds=round((utcnow() - result.started_at).total_seconds(), 3),
        degraded_reason=result.degraded_reason,
        produced_by=result.produced_by,
    )
