"""`turbotext`: Turbotext's photo API (SPEC §4.5, https://www.turbotext.ru/photo_ai/docs/info).

Two steps per job, form-encoded POSTs to `{base}/api_ai/{method}` with a Bearer
key: `do=create_queue` with the method's parameters answers a queue id; then
`do=get_result` with `queueid`, repeated while it answers `{"action":
"reconnect"}`, answers the result, whose image is downloaded. Turbotext fetches
its inputs by URL, so each input is published first (`JobContext.publish`).
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Mapping
from typing import Any, Self
from urllib.parse import urlencode

import httpx
import structlog
from PIL import Image

from photochanger.config import Settings
from photochanger.deadline import Deadline
from photochanger.media.image_type import SNIFF_BYTES, sniff_image_mime
from photochanger.providers.base import (
    CHECK_PROMPT,
    CheckRequest,
    InputPublisher,
    JobContext,
    Operation,
    ProviderError,
    ProviderNotConfigured,
    ProviderPermanentError,
    ProviderResult,
    ProviderTimeout,
    ProviderTransientError,
    configured_base_url,
)
from photochanger.providers.http import error_for_status, new_client, send, verified_image
from photochanger.providers.pricing import ModelPrice, Usage
from photochanger.providers.turbotext_operations import (
    DEEPFAKE_TEMPLATE_ROLE,
    STYLE_TEMPLATE_ROLE,
    DeepfakePhotoSettings,
    GenerateImage2ImageSettings,
    MixImagesSettings,
    WirePlan,
    wire_plan,
)

PROVIDER = "turbotext"
POLL_FIRST_SECONDS = 1.0
POLL_GROWTH = 1.5
POLL_CAP_SECONDS = 4.0
MIN_CALL_SECONDS = 0.2
"""Less of the window than this left: another call could not finish, give up."""

TRANSIENT_ERROR_WORDS = (
    "busy",
    "overload",
    "try again",
    "timeout",
    "temporar",
    "занят",
    "перегруж",
    "попробуйте позже",
    "повторите",
)
"""An `error` text with one of these is worth another try; any other (balance,
key, parameters, a refused image) would fail the same way again."""

log = structlog.get_logger("photochanger.providers.turbotext")


def accepted_input(data: bytes) -> tuple[bytes, str]:
    """JPEG and PNG go as they are; WebP, which Turbotext does not take, becomes a
    JPEG (metadata kept, nothing else changed). Run it on a worker thread."""
    mime = sniff_image_mime(data[:SNIFF_BYTES])
    if mime in ("image/jpeg", "image/png"):
        return data, mime
    if mime != "image/webp":
        raise ProviderPermanentError("an input is not a JPEG, PNG or WebP image")
    try:
        with Image.open(io.BytesIO(data), formats=["WEBP"]) as image:
            extra = {k: image.info[k] for k in ("exif", "icc_profile") if image.info.get(k)}
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=95, **extra)
    except (OSError, SyntaxError, ValueError) as exc:
        raise ProviderPermanentError(
            f"a WebP input could not be converted to JPEG ({type(exc).__name__})"
        ) from None
    return out.getvalue(), "image/jpeg"


class _Backoff:
    """Waits between polls: 1 s, growing to 4 s, never past the deadline."""

    def __init__(self, deadline: Deadline) -> None:
        self._deadline = deadline
        self._delay = POLL_FIRST_SECONDS

    async def wait(self, timeout_message: str) -> None:
        await asyncio.sleep(min(self._delay, self._deadline.remaining()))
        self._delay = min(self._delay * POLL_GROWTH, POLL_CAP_SECONDS)
        if self._deadline.remaining() < MIN_CALL_SECONDS:
            raise ProviderTimeout(timeout_message, reason="deadline")


class TurbotextDriver:
    """Turbotext's three photo methods behind one shared client."""

    name: str = PROVIDER
    title: str = "Turbotext"
    title_i18n: Mapping[str, str] = {"ru": "Turbotext"}
    operations: Mapping[str, Operation] = {
        "generate_image2image": Operation(
            "generate_image2image",
            "Redraw the photo from a prompt",
            GenerateImage2ImageSettings,
            title_i18n={"ru": "Перерисовать фото по описанию"},
        ),
        "mix_images": Operation(
            "mix_images",
            f"Style transfer from the template with role `{STYLE_TEMPLATE_ROLE}`",
            MixImagesSettings,
            template_roles=(STYLE_TEMPLATE_ROLE,),
            title_i18n={"ru": f"Перенос стиля с шаблона с ролью «{STYLE_TEMPLATE_ROLE}»"},
        ),
        "deepfake_photo": Operation(
            "deepfake_photo",
            f"Face swap: the guest's face into the template with role `{DEEPFAKE_TEMPLATE_ROLE}`",
            DeepfakePhotoSettings,
            template_roles=(DEEPFAKE_TEMPLATE_ROLE,),
            title_i18n={
                "ru": f"Замена лица: лицо гостя в шаблон с ролью «{DEEPFAKE_TEMPLATE_ROLE}»"
            },
        ),
    }

    takes_api_key: bool = True
    remote: bool = True
    prices: Mapping[str, ModelPrice] = {}
    """Turbotext publishes no API price list (its API comes with a paid plan):
    the studio enters its price per request on the settings page, under
    `turbotext/<method>`; until then its jobs show no cost."""
    default_base_url: str | None = "https://www.turbotext.ru"
    check: CheckRequest | None = CheckRequest("generate_image2image", {"prompt": CHECK_PROMPT})

    def __init__(self, base_url: str) -> None:
        self._base_url = httpx.URL(base_url.rstrip("/") + "/")
        self._client: httpx.AsyncClient | None = None

    @classmethod
    def from_config(cls, config: Settings) -> Self:
        return cls(configured_base_url(config, cls.name, cls.default_base_url))

    async def start(self) -> None:
        self._client = new_client(str(self._base_url))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def edit(self, ctx: JobContext) -> ProviderResult:
        if not ctx.api_key:
            raise ProviderNotConfigured("no Turbotext API key is configured")
        if ctx.publish is None:
            raise ProviderNotConfigured("Turbotext needs inputs published by URL")
        plan = wire_plan(ctx)
        call = _Call(self, ctx, plan.method, ctx.api_key)
        fields = [("do", "create_queue"), *await self._inputs(ctx, plan, ctx.publish), *plan.params]
        queued = await call.post(fields)
        queue_id = queued.get("queueid")
        if (
            queued.get("success") is not True
            or isinstance(queue_id, bool)
            or not isinstance(queue_id, int | str)
            or not str(queue_id).strip()
        ):
            raise ProviderPermanentError(
                f"turbotext {plan.method} answered create_queue without a queue id",
                reason="malformed_answer",
            )
        call.queue_id = str(queue_id)[:64]
        log.info("turbotext_queued", provider=PROVIDER, method=plan.method, queue_id=call.queue_id)
        # A queued request is a generation paid for, whatever comes of it.
        usage = Usage(model=plan.method, images=1, reported={"queueid": call.queue_id})
        try:
            result = await call.result()
            data, mime = await call.download(self._result_url(result))
        except ProviderError as exc:
            exc.response_id = exc.response_id or call.queue_id
            exc.usage = usage
            raise
        log.info(
            "turbotext_done",
            provider=PROVIDER,
            method=plan.method,
            queue_id=call.queue_id,
            polls=call.polls,
            mime=mime,
            size=len(data),
        )
        return ProviderResult(mime=mime, data=data, response_id=call.queue_id, usage=usage)

    @property
    def client(self) -> httpx.AsyncClient:
        assert self._client is not None, "TurbotextDriver.start() was not called"
        return self._client

    @property
    def base_url(self) -> httpx.URL:
        return self._base_url

    async def _inputs(
        self, ctx: JobContext, plan: WirePlan, publish: InputPublisher
    ) -> list[tuple[str, str]]:
        """Publish the photo, then the template (SPEC §4.1 order); the form fields
        that carry their URLs."""
        template = None
        if plan.template_role is not None:
            template = next((t for t in ctx.templates if t.role == plan.template_role), None)
            if template is None:
                raise ProviderPermanentError(
                    f"turbotext {plan.method} needs a template image with role "
                    f"{plan.template_role!r} on the slot"
                )
        photo, photo_mime = await asyncio.to_thread(lambda: accepted_input(ctx.image.read_bytes()))
        fields = [(plan.photo_field, await publish(photo, photo_mime))]
        if template is not None:
            assert plan.template_field is not None
            data, mime = await asyncio.to_thread(accepted_input, template.data)
            fields.append((plan.template_field, await publish(data, mime)))
        return fields

    def _result_url(self, result: Mapping[str, Any]) -> httpx.URL:
        """`uploaded_image` (absolute) when present, else the first `data.image`,
        which may be relative to the base URL."""
        link = result.get("uploaded_image")
        if not isinstance(link, str) or not link.strip():
            data = result.get("data")
            images = data.get("image") if isinstance(data, dict) else None
            link = images[0] if isinstance(images, list) and images else None
        if not isinstance(link, str) or not link.strip():
            raise ProviderPermanentError(
                "turbotext answered success without a result link", reason="no_image"
            )
        url = self._base_url.join(link.strip())
        if url.scheme not in ("http", "https"):
            raise ProviderPermanentError(
                "turbotext answered a result link that is not http(s)", reason="no_image"
            )
        return url


class _Call:
    """One job's conversation with Turbotext: its key, method and queue id, so
    every request and every log line carries them."""

    def __init__(self, driver: TurbotextDriver, ctx: JobContext, method: str, key: str) -> None:
        self._driver = driver
        self._deadline = ctx.deadline
        self._method = method
        self._key = key
        self.queue_id: str | None = None
        self.polls = 0

    def _redacted(self, text: str) -> str:
        # A provider that echoes the key in an error must not put it in our logs.
        return text.replace(self._key, "[redacted]")[:300]

    def _failed(self, step: str, status: int, error: str) -> None:
        log.warning(
            "turbotext_failed",
            provider=PROVIDER,
            method=self._method,
            step=step,
            http_status=status,
            error=error,
            queue_id=self.queue_id,
        )

    async def post(self, fields: list[tuple[str, str]]) -> dict[str, Any]:
        """One form POST to `/api_ai/{method}`; its JSON object, or a typed error."""
        step = fields[0][1]
        response, body = await send(
            self._driver.client,
            "POST",
            f"api_ai/{self._method}",
            deadline=self._deadline,
            provider=PROVIDER,
            content=urlencode(fields).encode(),
            headers={
                "Authorization": f"Bearer {self._key}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        status = response.status_code
        payload = _json_object(body)
        error = payload.get("error") if payload is not None else None
        error_text = self._redacted(str(error)) if error else ""
        if not 200 <= status < 300:
            self._failed(step, status, error_text)
            raise error_for_status(status)(
                f"turbotext {self._method} {step} answered HTTP {status}"
                + (f": {error_text}" if error_text else ""),
                reason=str(status),
            )
        if payload is None:
            self._failed(step, status, "not a JSON object")
            raise ProviderPermanentError(
                f"turbotext {self._method} {step} answered something that is not JSON",
                reason="malformed_answer",
            )
        if error_text or payload.get("success") is False:
            error_text = error_text or "success=false without an error text"
            self._failed(step, status, error_text)
            lowered = error_text.lower()
            transient = any(word in lowered for word in TRANSIENT_ERROR_WORDS)
            kind = ProviderTransientError if transient else ProviderPermanentError
            raise kind(f"turbotext: {error_text}", reason=error_text[:64])
        return payload

    async def result(self) -> dict[str, Any]:
        """Poll `get_result` until it answers success, backing off between polls.
        A transient failure of one poll is polled again: the queue is paid for."""
        assert self.queue_id is not None
        backoff = _Backoff(self._deadline)
        not_ready = f"turbotext queue {self.queue_id} had no result within the window"
        while True:
            self.polls += 1
            try:
                payload = await self.post([("do", "get_result"), ("queueid", self.queue_id)])
            except ProviderTransientError as exc:
                await backoff.wait(f"{not_ready} ({exc.message})")
                continue
            if payload.get("action") == "reconnect":
                await backoff.wait(not_ready)
                continue
            if payload.get("success") is True:
                return payload
            self._failed("get_result", 200, "neither a result nor reconnect")
            raise ProviderPermanentError(
                "turbotext get_result answered neither a result nor reconnect",
                reason="malformed_answer",
            )

    async def download(self, url: httpx.URL) -> tuple[bytes, str]:
        """The result image, checked whole before anyone stores it. The key goes
        only to Turbotext's own host; a transient failure is tried again."""
        base = self._driver.base_url
        same_origin = (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)
        headers = {"Authorization": f"Bearer {self._key}"} if same_origin else {}
        backoff = _Backoff(self._deadline)
        while True:
            try:
                status, body = await self._fetch(url, headers)
                break
            except ProviderTransientError as exc:
                await backoff.wait(exc.message)
        try:
            mime = await asyncio.to_thread(verified_image, body, provider=PROVIDER)
        except ProviderError as exc:
            self._failed("download", status, exc.message)
            raise
        return body, mime

    async def _fetch(self, url: httpx.URL, headers: dict[str, str]) -> tuple[int, bytes]:
        response, body = await send(
            self._driver.client,
            "GET",
            str(url),
            deadline=self._deadline,
            provider=PROVIDER,
            follow_redirects=True,
            headers=headers,
        )
        status = response.status_code
        if not 200 <= status < 300:
            self._failed("download", status, "")
            raise error_for_status(status)(
                f"turbotext result download answered HTTP {status}", reason=str(status)
            )
        return status, body


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None
