"""What every HTTP driver shares: one client per provider, calls bounded by the
job's deadline and by a size cap, typed errors from statuses, and a check that an
answer really is a whole image before anything stores it."""

from __future__ import annotations

import asyncio
import io
import json
import ssl
import time
import warnings
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Self

import httpx
import structlog
from PIL import Image

from photochanger.config import Settings
from photochanger.deadline import Deadline
from photochanger.media.image_type import SNIFF_BYTES, sniff_image_mime
from photochanger.providers.base import (
    JobContext,
    ProviderError,
    ProviderNotConfigured,
    ProviderPermanentError,
    ProviderResult,
    ProviderTimeout,
    ProviderTransientError,
    configured_base_url,
)
from photochanger.providers.pricing import ModelPrice

logger = structlog.get_logger(__name__)

MAX_ANSWER_BYTES = 25 * 1024 * 1024
"""No provider answer we accept is larger (a 4K PNG is ~20 MB as base64)."""
MAX_ERROR_BODY_BYTES = 64 * 1024
"""Of an answer that is not a success, no more is read: plenty for a provider's
JSON error, while a proxy's 10 MB error page costs neither the memory nor the
time (the status decides, the rest is dropped with the connection)."""

MAX_RESULT_MEGAPIXELS = 100
_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


def new_client(base_url: str) -> httpx.AsyncClient:
    """The one client of a provider, created in the app lifespan. Timeouts are set
    per call from the deadline; this default only guards a call that forgot."""
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(60.0, connect=10.0),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        follow_redirects=False,
        trust_env=False,
    )


class HttpDriver:
    """Base of the HTTP drivers: the provider's one client, opened in the app
    lifespan (`start`) and closed with it (`close`)."""

    name: str
    default_base_url: str | None
    remote: bool = True
    prices: Mapping[str, ModelPrice] = {}

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url
        self._client: httpx.AsyncClient | None = None

    @classmethod
    def from_config(cls, config: Settings) -> Self:
        return cls(configured_base_url(config, cls.name, cls.default_base_url))

    async def start(self) -> None:
        self._client = new_client(self._base_url)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError(f"{type(self).__name__}.start() was not called")
        return self._client


def call_timeout(deadline: Deadline) -> httpx.Timeout:
    """The time a call may take: what is left of the window (at least a moment)."""
    remaining = max(0.05, deadline.remaining())
    return httpx.Timeout(remaining, connect=min(remaining, 10.0))


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    deadline: Deadline,
    provider: str,
    max_bytes: int = MAX_ANSWER_BYTES,
    follow_redirects: bool = False,
    **kwargs: Any,
) -> tuple[httpx.Response, bytes]:
    """One request under the deadline, the answer read in full up to `max_bytes`.

    Network errors and time-outs become `ProviderTransientError`/`ProviderTimeout`
    (a certificate that fails verification: `ProviderPermanentError`); an answer
    over the cap is a permanent failure (it is never buffered whole). The status
    is not judged here: the driver reads the error body first, of which only the
    first `MAX_ERROR_BODY_BYTES` are read.
    `follow_redirects` is for downloads of result links, which may point at a
    CDN; httpx drops the Authorization header when a redirect leaves the origin."""
    request = client.build_request(method, url, timeout=call_timeout(deadline), **kwargs)
    try:
        response = await client.send(request, stream=True, follow_redirects=follow_redirects)
    except httpx.TimeoutException:
        raise ProviderTimeout(f"{provider} did not answer in time") from None
    except httpx.HTTPError as exc:
        raise _unreachable(provider, exc) from None
    try:
        if not response.is_success:
            return response, await _error_body(response)
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise ProviderPermanentError(
                f"{provider} answered {int(declared)} bytes, over the {max_bytes} byte cap",
                reason="answer_too_large",
            )
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise ProviderPermanentError(
                    f"{provider} answered over the {max_bytes} byte cap",
                    reason="answer_too_large",
                )
    except httpx.TimeoutException:
        raise ProviderTimeout(f"{provider} stopped answering mid-response") from None
    except httpx.HTTPError as exc:
        raise ProviderTransientError(
            f"{provider} broke the connection mid-response ({type(exc).__name__})"
        ) from None
    finally:
        await response.aclose()
    return response, bytes(body)


async def _error_body(response: httpx.Response) -> bytes:
    """The start of an error answer, at most `MAX_ERROR_BODY_BYTES`."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk[: MAX_ERROR_BODY_BYTES - len(body)]
        if len(body) >= MAX_ERROR_BODY_BYTES:
            break
    return bytes(body)


def _unreachable(provider: str, error: httpx.HTTPError) -> ProviderError:
    """A connection that failed, named for the admin who reads the job: a TLS
    certificate the client refuses (verification is never turned off) will
    not pass on a retry."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return ProviderPermanentError(
                f"{provider}'s TLS certificate failed verification ({cause.verify_message})",
                reason="tls_certificate",
            )
        if isinstance(cause, ssl.SSLError):
            why = cause.reason or type(cause).__name__
            return ProviderTransientError(
                f"the TLS handshake with {provider} failed ({why})", reason="tls_handshake"
            )
        cause = cause.__cause__ or cause.__context__
    return ProviderTransientError(f"{provider} could not be reached ({type(error).__name__})")


def error_for_status(status: int) -> type[ProviderError]:
    """429, 408 and 5xx are worth another try inside the window; other 4xx are not."""
    if status in (408, 409, 429) or status >= 500:
        return ProviderTransientError
    return ProviderPermanentError


def json_body(body: bytes) -> Any:
    """The answer parsed as JSON, or None when it is not JSON (an HTML error page
    from a proxy, a truncated body); drivers then judge it by its status."""
    try:
        return json.loads(body)
    except ValueError:
        return None


def provider_text(text: object, *, secret: str | None = None, limit: int = 500) -> str:
    """A provider's own words (an error message, a finish message), safe to log and
    record: bounded, one line, and with the API key masked should the provider (or a
    proxy) echo it back."""
    value = " ".join(str(text).split())
    if secret:
        value = value.replace(secret, "***")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def response_id(headers: Mapping[str, str], *names: str) -> str | None:
    """The provider's request id from the first header present (for support tickets)."""
    for name in names:
        value = headers.get(name)
        if value:
            return value[:200]
    return None


def verified_image(data: bytes, *, provider: str) -> str:
    """The mime of a complete JPEG, PNG or WebP; a permanent failure for anything
    else: wrong type, truncated, undecodable, or absurdly large. Decodes the whole
    image (run it on a worker thread), so a broken file is never stored."""
    mime = sniff_image_mime(data[:SNIFF_BYTES])
    if mime is None:
        raise ProviderPermanentError(
            f"{provider} returned something that is not a JPEG, PNG or WebP image",
            reason="not_an_image",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[mime]]) as image:
                width, height = image.size
                if width * height > MAX_RESULT_MEGAPIXELS * 1_000_000:
                    raise ProviderPermanentError(
                        f"{provider} returned a {width}x{height} image, too large",
                        reason="image_too_large",
                    )
                image.load()
    except ProviderError:
        raise
    except (
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ) as exc:
        raise ProviderPermanentError(
            f"{provider} returned a broken {mime} image ({type(exc).__name__})",
            reason="broken_image",
        ) from None
    return mime


@dataclass
class CallRecord:
    """What a driver learnt during one call, for that call's log line."""

    http_status: int | None = None


async def logged_call(
    ctx: JobContext,
    *,
    provider: str,
    model: str,
    call: Callable[[str, CallRecord], Awaitable[ProviderResult]],
) -> ProviderResult:
    """One driver call: refused without a key, bounded by the job's deadline (image
    work on threads included), and logged once with provider, model, HTTP status,
    response id and the provider's message — never the key, never image bytes.
    `call` gets the key and a record to note the HTTP status in."""
    if not ctx.api_key:
        raise ProviderNotConfigured(f"no {provider} API key is configured", reason="no_api_key")
    record = CallRecord()
    started = time.monotonic()
    log = logger.bind(provider=provider, model=model, job_id=ctx.job_id)
    try:
        async with asyncio.timeout(ctx.deadline.remaining()):
            result = await call(ctx.api_key, record)
    except TimeoutError:
        error: ProviderError = ProviderTimeout(f"{provider} did not answer within the window")
    except ProviderError as exc:
        error = exc
    else:
        log.info(
            "provider_call",
            outcome="done",
            http_status=record.http_status,
            response_id=result.response_id,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        return result
    log.warning(
        "provider_call",
        outcome="failed",
        http_status=record.http_status,
        error_kind=type(error).__name__,
        reason=error.reason,
        error=error.message,
        response_id=error.response_id,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    raise error
