"""The booth's door (SPEC §3), and the path every upload to a job takes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect
from starlette.responses import Response, StreamingResponse

from photochanger.deadline import Arrival, Deadline
from photochanger.dependencies import Services, ServicesDep, get_services
from photochanger.errors import (
    ErrorBody,
    InvalidPassword,
    InvalidRequest,
    PhotoChangerError,
    ProviderTimedOut,
)
from photochanger.ingest.answer import DEGRADED_HEADER, IngestResult
from photochanger.ingest.door import BOOTH, Door
from photochanger.ingest.lockout import IngestLockout
from photochanger.metrics.service import IngestMeter
from photochanger.multipart import (
    BINARY_PART,
    HASH_FIELD,
    PASSWORD_FIELD,
    UploadForm,
    declared_length,
    multipart_request_body,
    parse_upload_form,
)
from photochanger.slots.override import SlotOverride


class IngestRoute(APIRoute):
    """The ingest's route: FastAPI documents it from the endpoint's signature as
    usual, but serves it without solving that signature per request (dependency
    and parameter machinery, about a tenth of a small ingest's event-loop time,
    bench/README.md): the handler passes the path parameter and the services
    itself. The endpoint reads its body and headers from the request anyway."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        async def handler(request: Request) -> Response:
            services = await get_services(request)
            return await ingest(request.path_params["slot_id"], request, services)

        return handler


router = APIRouter(tags=["ingest"], route_class=IngestRoute)
log = structlog.get_logger("photochanger.ingest")

ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    code: {"description": text, "model": ErrorBody}
    for code, text in {
        400: "`invalid_request`: not multipart, broken body, missing field, empty file",
        401: "`invalid_password`",
        404: "`slot_not_found` or `slot_disabled`",
        413: "`payload_too_large`: over the slot limit or the 20 MB cap",
        415: "`unsupported_media_type`: not JPEG/PNG/WebP by its bytes",
        429: "`rate_limited`: the slot's or provider's concurrency limit is full, or "
        "the client's address sent ten wrong passwords within 15 minutes",
        502: "`provider_error`",
        503: "`provider_unavailable`",
        504: "`provider_timeout` (status `timeout`)",
        500: "`internal_error`",
    }.items()
}


@router.post(
    "/api/ingest/{slot_id:path}",
    responses={
        200: {
            "description": "The edited photo; with `on_failure: original`, possibly the "
            "guest's own photo, marked by `X-PhotoChanger-Degraded`.",
            "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}},
            "headers": {
                "X-Job-Id": {"schema": {"type": "string"}, "description": "The job's id."},
                "X-Result-Url": {
                    "schema": {"type": "string"},
                    "description": "The result's public download link.",
                },
                DEGRADED_HEADER: {
                    "schema": {"type": "string"},
                    "description": "Only on a degraded answer (SPEC §10): why it is not "
                    "the provider's edit — `timeout`, `budget`, `provider_unavailable`, "
                    "`internal_error`, `provider_error[:<provider's reason>]`.",
                },
            },
        },
        **ERROR_RESPONSES,
    },
    response_class=Response,
    openapi_extra=multipart_request_body(
        {
            PASSWORD_FIELD: {"type": "string"},
            BOOTH.file_field: BINARY_PART,
            HASH_FIELD: {"type": "string", "description": "SHA-1 or SHA-256 hex"},
        },
        required=[PASSWORD_FIELD, BOOTH.file_field],
        other_fields={"type": "string"},
    ),
)
async def ingest(slot_id: str, request: Request, services: ServicesDep) -> Response:
    """Edit one booth photo and answer with the result (SPEC §3).

    The booth POSTs `multipart/form-data` with `password` and `fileToUpload`
    (JPEG, PNG or WebP, detected from its bytes) and waits: the body of a 200 is
    the edited image, with `X-Job-Id` and `X-Result-Url` (a public download link).
    A slot with `on_failure: original` answers a failed edit with 200 and the
    guest's own photo, marked `X-PhotoChanger-Degraded: <reason>` (SPEC §10).
    Other text fields are kept on the job as booth metadata. Every failure is
    JSON `{status, failure_reason, details}`; the whole call runs under the sync
    window (`sync_response_seconds`), after which it answers 504.
    """
    result = await receive_and_run(request, services, slot_id, BOOTH)
    headers = {
        "Cache-Control": "no-store",
        "X-Job-Id": result.job_id,
        "X-Result-Url": result.result_url,
        "Content-Length": str(result.size),
    }
    if result.degraded_reason is not None:
        headers[DEGRADED_HEADER] = result.degraded_reason
    if result.data is not None:
        return Response(result.data, media_type=result.mime, headers=headers)
    return StreamingResponse(
        services.store.stream(result.result_key), media_type=result.mime, headers=headers
    )


async def receive_and_run(
    request: Request,
    services: Services,
    slot_id: str,
    door: Door,
    *,
    read_override: Callable[[UploadForm], Awaitable[SlotOverride]] | None = None,
) -> IngestResult:
    """The one door-independent path of an upload: the configuration snapshot
    first (its window makes the request's one deadline), the body stream-parsed
    under that deadline, `IngestService.run`, the outcome logged and, for the
    booth's door, counted. The admin's test run turns its form into the unsaved
    values it runs with by `read_override`."""
    arrival = Arrival.now()
    with services.metrics.ingest_meter(arrival.monotonic, counted=door.metered) as meter:
        result = await _receive_and_run(
            request, services, slot_id, door, arrival, meter, read_override
        )
        meter.answered(result.degraded_reason)
        return result


async def _receive_and_run(
    request: Request,
    services: Services,
    slot_id: str,
    door: Door,
    arrival: Arrival,
    meter: IngestMeter,
    read_override: Callable[[UploadForm], Awaitable[SlotOverride]] | None,
) -> IngestResult:
    ingest = services.ingest
    client = request.client.host if request.client else "unknown"
    if door.needs_password:
        ingest.lockout.check(client)  # before anything is read
    length = declared_length(request.headers.get("content-length"))
    snapshot = await ingest.snapshot(slot_id, length)
    if snapshot.slot is not None:  # a slot that exists: its id may be a label
        meter.slot_found(snapshot.slot.id, snapshot.slot.provider)
    deadline = Deadline.start(snapshot.window_seconds, arrival)
    source = door.source
    form: UploadForm | None = None
    try:
        try:
            # A trickling upload spends the same window as the provider would.
            async with asyncio.timeout(deadline.remaining()):
                form = await parse_upload_form(
                    request.stream(),
                    request.headers.get("content-type"),
                    declared_length=length,
                    file_limit=snapshot.file_limit_bytes,
                    spool_dir=services.config.resolved_spool_dir,
                    file_field=door.file_field,
                    long_fields=door.long_fields,
                    budget=services.photo_memory,
                )
        except TimeoutError:
            raise ProviderTimedOut("the upload did not finish within the sync window") from None
        if read_override is not None:
            door = door.with_override(await read_override(form))
        result = await ingest.run(
            slot_id=slot_id, snapshot=snapshot, form=form, deadline=deadline, door=door
        )
    except ClientDisconnect:
        _log_outcome(slot_id, deadline, "failed", "client_disconnected", source=source)
        meter.client_gone()
        raise InvalidRequest("the client closed the connection mid-upload") from None
    except PhotoChangerError as error:
        _log_outcome(slot_id, deadline, error.status, error.failure_reason, source=source)
        if isinstance(error, InvalidPassword):
            await _count_wrong_password(ingest.lockout, client)
        raise
    finally:
        if form is not None and form.file is not None:
            form.file.discard()
    _log_outcome(
        slot_id,
        deadline,
        "done",
        None,
        size=result.size,
        deduplicated=result.deduplicated,
        degraded_reason=result.degraded_reason,
        source=source,
    )
    return result


def _log_outcome(
    slot_id: str, deadline: Deadline, outcome: str, failure_reason: str | None, **extra: object
) -> None:
    log.info(
        "ingest_finished",
        slot_id=slot_id[:40],
        outcome=outcome,
        failure_reason=failure_reason,
        duration_ms=deadline.elapsed_ms(),
        **extra,
    )


async def _count_wrong_password(lockout: IngestLockout, client: str) -> None:
    """The 401 stands even when the failure cannot be counted (the database is
    down): the booth learns its password is wrong either way."""
    try:
        await lockout.failed(client)
    except Exception as error:  # logged; the answer is the 401
        log.error("ingest_failure_not_counted", error=type(error).__name__)
