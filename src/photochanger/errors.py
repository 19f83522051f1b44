"""Domain errors, one per row of SPEC §3.2, and their JSON rendering."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Literal

from pydantic import BaseModel
from starlette.responses import JSONResponse


class ErrorBody(BaseModel):
    """Every error answer (SPEC §3.2)."""

    status: Literal["error", "timeout"]
    failure_reason: str
    details: str
    retry_after: int | None = None
    errors: list[dict[str, str]] | None = None


class PhotoChangerError(Exception):
    """An error with its HTTP status and `failure_reason`; rendered by one handler."""

    status_code: ClassVar[int] = 500
    failure_reason: ClassVar[str] = "internal_error"
    status: ClassVar[Literal["error", "timeout"]] = "error"

    def __init__(self, details: str, *, retry_after: int | None = None) -> None:
        super().__init__(details)
        self.details = details
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": self.status,
            "failure_reason": self.failure_reason,
            "details": self.details,
        }
        if self.retry_after is not None:
            body["retry_after"] = self.retry_after
        return body

    def to_response(self) -> JSONResponse:
        headers = {"Cache-Control": "no-store"}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return JSONResponse(self.body(), status_code=self.status_code, headers=headers)


class InvalidRequest(PhotoChangerError):
    status_code = 400
    failure_reason = "invalid_request"


class InvalidPassword(PhotoChangerError):
    status_code = 401
    failure_reason = "invalid_password"


class SlotNotFound(PhotoChangerError):
    status_code = 404
    failure_reason = "slot_not_found"


class SlotDisabled(PhotoChangerError):
    status_code = 404
    failure_reason = "slot_disabled"


class PayloadTooLarge(PhotoChangerError):
    status_code = 413
    failure_reason = "payload_too_large"


class UnsupportedMediaType(PhotoChangerError):
    status_code = 415
    failure_reason = "unsupported_media_type"


class RateLimited(PhotoChangerError):
    status_code = 429
    failure_reason = "rate_limited"


class ProviderFailed(PhotoChangerError):
    status_code = 502
    failure_reason = "provider_error"


class ServiceUnavailable(PhotoChangerError):
    status_code = 503
    failure_reason = "provider_unavailable"


class BudgetSpent(ServiceUnavailable):
    """The slot's daily budget is spent and it has no free step to run (SPEC §10)."""


class ProviderTimedOut(PhotoChangerError):
    status_code = 504
    failure_reason = "provider_timeout"
    status = "timeout"


class RouteNotFound(PhotoChangerError):
    """No route has this path (or an id in it is shaped like no id)."""

    status_code = 404
    failure_reason = "not_found"


class MethodNotAllowed(PhotoChangerError):
    status_code = 405
    failure_reason = "method_not_allowed"


class ResultNotFound(PhotoChangerError):
    status_code = 404
    failure_reason = "result_not_found"


class ResultExpired(PhotoChangerError):
    status_code = 410
    failure_reason = "result_expired"


class MediaNotFound(PhotoChangerError):
    status_code = 404
    failure_reason = "media_not_found"


class MediaExpired(PhotoChangerError):
    status_code = 410
    failure_reason = "media_expired"


class NotAuthenticated(PhotoChangerError):
    """An admin route called without a valid token (SPEC §6.1)."""

    status_code = 401
    failure_reason = "not_authenticated"


class InvalidCredentials(PhotoChangerError):
    status_code = 401
    failure_reason = "invalid_credentials"


class CsrfFailed(PhotoChangerError):
    """A state-changing request authenticated by cookie without the CSRF header."""

    status_code = 403
    failure_reason = "csrf_failed"


class GalleryClosed(PhotoChangerError):
    status_code = 403
    failure_reason = "gallery_closed"


class JobNotFound(PhotoChangerError):
    status_code = 404
    failure_reason = "job_not_found"


class MediaInUse(PhotoChangerError):
    status_code = 409
    failure_reason = "media_in_use"


class SlotVersionConflict(PhotoChangerError):
    """A slot saved over a version that is no longer current (another admin saved)."""

    status_code = 409
    failure_reason = "slot_version_conflict"


class ValidationFailed(PhotoChangerError):
    """422 with one `{field, message}` per invalid field, for the UI to highlight."""

    status_code = 422
    failure_reason = "validation_error"

    def __init__(self, details: str, errors: list[dict[str, str]]) -> None:
        super().__init__(details)
        self.errors = errors

    def body(self) -> dict[str, Any]:
        return {**super().body(), "errors": self.errors}


class InternalError(PhotoChangerError):
    status_code = 500
    failure_reason = "internal_error"


def all_error_classes() -> list[type[PhotoChangerError]]:
    """Every concrete error, for the docs test and the OpenAPI error list."""
    found: list[type[PhotoChangerError]] = []
    pending = list(PhotoChangerError.__subclasses__())
    while pending:
        cls = pending.pop(0)
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def field_errors(problems: Iterable[Mapping[str, Any]], prefix: str = "") -> list[dict[str, str]]:
    """pydantic's errors as `{field, message}` for a 422: the location joined with
    dots after `prefix`, without FastAPI's `body` step or pydantic's `[key]` step
    (a bad dict key, which the next step names)."""
    found = []
    for problem in problems:
        steps = [str(step) for step in problem["loc"] if step not in ("body", "[key]")]
        found.append({"field": prefix + ".".join(steps), "message": str(problem["msg"])})
    return found


def error_responses(*errors: type[PhotoChangerError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these errors, grouped by status."""
    by_status: dict[int, list[str]] = {}
    for error in errors:
        by_status.setdefault(error.status_code, []).append(f"`{error.failure_reason}`")
    return {
        status: {"description": " or ".join(reasons), "model": ErrorBody}
        for status, reasons in sorted(by_status.items())
    }
