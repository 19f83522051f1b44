"""Domain errors, one per row of SPEC §3.2, and their JSON rendering."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from starlette.responses import JSONResponse


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


class ProviderTimedOut(PhotoChangerError):
    status_code = 504
    failure_reason = "provider_timeout"
    status = "timeout"


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
