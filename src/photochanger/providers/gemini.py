"""`gemini`: photo edits through the Gemini API's `generateContent` (SPEC §4.3).

One JSON request: a user turn with the photo, then the template images (inline,
base64), then the prompt; the answer's last image part that is not a thought is
the result. A 200 without an image is a failure that carries Gemini's reason."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, StringConstraints, field_validator, model_validator

from photochanger.providers.base import (
    CHECK_PROMPT,
    CheckRequest,
    JobContext,
    Operation,
    OperationSettings,
    ProviderError,
    ProviderPermanentError,
    ProviderResult,
    ProviderTransientError,
    ru,
)
from photochanger.providers.http import (
    CallRecord,
    HttpDriver,
    error_for_status,
    json_body,
    logged_call,
    provider_text,
    send,
    verified_image,
)
from photochanger.providers.inputs import InlineImage, fit_inline_images
from photochanger.providers.pricing import ModelPrice, Usage

PROVIDER = "gemini"
MAX_REQUEST_BYTES = 20_000_000
"""Gemini refuses inline requests over 20 MB; inputs are scaled down to fit."""
_REQUEST_OVERHEAD = 64 * 1024

GeminiModel = Literal["gemini-3.1-flash-image", "gemini-3-pro-image"]
AspectRatio = Literal[
    "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9",
    "1:4", "4:1", "1:8", "8:1",
]  # fmt: skip
ImageSize = Literal["512", "1K", "2K", "4K"]
Modality = Literal["TEXT", "IMAGE"]
_MODALITY_LABELS = {"TEXT": "Text", "IMAGE": "Image"}
LabelledModality = Annotated[
    Modality,
    # On the items: the form's checkboxes label each value from the item schema.
    Field(
        json_schema_extra={
            "x-i18n": {"ru": {"enum": {"TEXT": "Текст", "IMAGE": "Изображение"}}},
            "x-enum-labels": _MODALITY_LABELS,
        }
    ),
]


@dataclass(frozen=True)
class ModelCapabilities:
    image_sizes: frozenset[str]
    aspect_ratios: frozenset[str]


_TEN_RATIOS = frozenset(get_args(AspectRatio)[:10])
MODELS: Mapping[str, ModelCapabilities] = {
    # Nano Banana 2: also 512 px output and the tall/wide 1:4 … 8:1 ratios.
    "gemini-3.1-flash-image": ModelCapabilities(
        frozenset(get_args(ImageSize)), frozenset(get_args(AspectRatio))
    ),
    "gemini-3-pro-image": ModelCapabilities(frozenset({"1K", "2K", "4K"}), _TEN_RATIOS),
}
"""What each model accepts in `imageConfig`. Adding a model: one entry here and
its id in `GeminiModel`."""

RETIRED_MODELS: Mapping[str, str] = {
    "gemini-2.5-flash-image": "shut down on 2026-10-02; use gemini-3.1-flash-image",
    "gemini-3.1-flash-image-preview": "shut down on 2026-06-25; use gemini-3.1-flash-image",
    "gemini-3-pro-image-preview": "shut down on 2026-06-25; use gemini-3-pro-image",
}
"""Ids the Gemini API no longer serves (ai.google.dev/gemini-api/docs/deprecations)."""

RETRIED_FINISH_REASONS = frozenset({"NO_IMAGE", "STOP", "FINISH_REASON_UNSPECIFIED", ""})
"""A 200 without an image for these reasons is worth another try; every other
reason (safety, prohibited content, recitation, blocklist, SPII, OTHER, …) is not."""


def _image_only() -> list[Modality]:
    return ["IMAGE"]


class GeminiEditSettings(OperationSettings):
    """Settings of the Gemini `edit` operation."""

    model: GeminiModel = Field(
        default="gemini-3.1-flash-image",
        title="Model",
        description="gemini-3.1-flash-image (Nano Banana 2: fast, cheaper) or "
        "gemini-3-pro-image (Nano Banana Pro: best quality, slower).",
        json_schema_extra=ru(
            "Модель",
            "gemini-3.1-flash-image (Nano Banana 2: быстрая, дешевле) или "
            "gemini-3-pro-image (Nano Banana Pro: лучшее качество, медленнее).",
        ),
    )
    prompt: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = Field(
        max_length=10_000,
        title="Prompt",
        description="What to do with the photo. The photo comes first, then the template "
        "images in their order, then this text: refer to them as 'the first image', "
        "'the second image', ….",
        json_schema_extra=ru(
            "Запрос",
            "Что сделать с фото. Сначала идёт фото, затем изображения шаблонов по порядку, "
            "затем этот текст: называйте их «первое изображение», «второе изображение», ….",
        ),
    )
    response_modalities: list[LabelledModality] = Field(
        default_factory=_image_only,
        title="Response modalities",
        description='["IMAGE"] (only an image) or ["TEXT", "IMAGE"] (the model may also '
        "explain itself; the text is recorded when no image comes back).",
        json_schema_extra=ru(
            "Что возвращает модель",
            "Только изображение (IMAGE) или текст и изображение (TEXT, IMAGE): модель может "
            "ещё и пояснить ответ; текст записывается, если изображение не пришло.",
        ),
    )
    aspect_ratio: AspectRatio | None = Field(
        default=None,
        title="Aspect ratio",
        description="Shape of the result; empty follows the photo. 1:4, 4:1, 1:8 and 8:1 "
        "only with gemini-3.1-flash-image.",
        json_schema_extra=ru(
            "Соотношение сторон",
            "Форма результата; пусто — как у фото. 1:4, 4:1, 1:8 и 8:1 — только с "
            "gemini-3.1-flash-image.",
        ),
    )
    image_size: ImageSize | None = Field(
        default=None,
        title="Image size",
        description="Resolution of the result (longest side about 512 px, 1K, 2K or 4K); "
        "empty is 1K. 512 only with gemini-3.1-flash-image.",
        json_schema_extra=ru(
            "Размер изображения",
            "Разрешение результата (длинная сторона около 512 px, 1K, 2K или 4K); "
            "пусто — 1K. 512 — только с gemini-3.1-flash-image.",
        ),
    )

    @field_validator("model", mode="before")
    @classmethod
    def _not_retired(cls, value: object) -> object:
        if isinstance(value, str) and value in RETIRED_MODELS:
            raise ValueError(f"{value} was {RETIRED_MODELS[value]}")
        return value

    @field_validator("response_modalities")
    @classmethod
    def _image_requested(cls, value: list[Modality]) -> list[Modality]:
        if "IMAGE" not in value or len(set(value)) != len(value):
            raise ValueError('must be ["IMAGE"] or ["TEXT", "IMAGE"]')
        return ["TEXT", "IMAGE"] if "TEXT" in value else ["IMAGE"]

    @model_validator(mode="after")
    def _supported_by_model(self) -> GeminiEditSettings:
        capabilities = MODELS[self.model]
        if self.image_size is not None and self.image_size not in capabilities.image_sizes:
            raise ValueError(
                f"image_size {self.image_size} is not offered by {self.model} "
                f"(it takes {', '.join(sorted(capabilities.image_sizes))})"
            )
        if self.aspect_ratio is not None and self.aspect_ratio not in capabilities.aspect_ratios:
            raise ValueError(f"aspect_ratio {self.aspect_ratio} is not offered by {self.model}")
        return self


class GeminiDriver(HttpDriver):
    """Google Gemini image models over the REST API, one shared client."""

    name: str = PROVIDER
    title: str = "Google Gemini"
    title_i18n: Mapping[str, str] = {"ru": "Google Gemini"}
    operations: Mapping[str, Operation] = {
        "edit": Operation(
            "edit",
            "Edit the photo by prompt and template images",
            GeminiEditSettings,
            # Every template of the slot is sent after the photo, whatever its role.
            template_roles=("template", "style", "face", "background"),
            title_i18n={"ru": "Изменить фото по описанию и шаблонам"},
        )
    }
    takes_api_key: bool = True
    prices: Mapping[str, ModelPrice] = {
        # Google's list prices per million tokens, read 2026-12-07 (README "Spend").
        # Text and image input cost the same; thinking is billed as text output.
        "gemini-3.1-flash-image": ModelPrice(
            input_text_per_million=0.50,
            input_image_per_million=0.50,
            output_text_per_million=3.00,
            output_image_per_million=60.00,
        ),
        "gemini-3-pro-image": ModelPrice(
            input_text_per_million=2.00,
            input_image_per_million=2.00,
            output_text_per_million=12.00,
            output_image_per_million=120.00,
        ),
    }
    default_base_url: str | None = "https://generativelanguage.googleapis.com"
    check: CheckRequest | None = CheckRequest("edit", {"prompt": CHECK_PROMPT})

    async def edit(self, ctx: JobContext) -> ProviderResult:
        settings = ctx.settings
        assert isinstance(settings, GeminiEditSettings)

        async def call(key: str, record: CallRecord) -> ProviderResult:
            body = await asyncio.to_thread(request_body, ctx, settings)
            response, raw = await send(
                self.client,
                "POST",
                f"/v1beta/models/{settings.model}:generateContent",
                deadline=ctx.deadline,
                provider=PROVIDER,
                content=body,
                headers={"x-goog-api-key": key, "content-type": "application/json"},
            )
            record.http_status = response.status_code
            payload = json_body(raw)
            if response.status_code != 200:
                raise _error_answer(response.status_code, payload, key)
            if not isinstance(payload, dict):
                raise ProviderPermanentError(
                    "gemini answered 200 with a body that is not JSON", reason="malformed_answer"
                )
            answer_id = _text_or_none(payload.get("responseId"))
            usage = gemini_usage(payload, settings.model)
            try:
                data = _result_image(payload, answer_id, key)
            except ProviderError as error:
                error.usage = usage  # a 200 without an image is billed all the same
                raise
            mime = await asyncio.to_thread(verified_image, data, provider=PROVIDER)
            return ProviderResult(mime=mime, data=data, response_id=answer_id, usage=usage)

        return await logged_call(ctx, provider=PROVIDER, model=settings.model, call=call)


def request_body(ctx: JobContext, settings: GeminiEditSettings) -> bytes:
    """The JSON body: photo, templates, prompt; inputs scaled down to fit 20 MB.
    Reads the photo (maybe from disk) and may resize: call it on a worker thread."""
    images = [InlineImage(ctx.image.mime, ctx.image.read_bytes())]
    images += [InlineImage(template.mime, template.data) for template in ctx.templates]
    budget = MAX_REQUEST_BYTES - _REQUEST_OVERHEAD - 2 * len(settings.prompt.encode())
    images = fit_inline_images(images, budget=budget, provider=PROVIDER)
    parts: list[dict[str, Any]] = [
        {"inline_data": {"mime_type": image.mime, "data": base64.b64encode(image.data).decode()}}
        for image in images
    ]
    parts.append({"text": settings.prompt})
    generation: dict[str, Any] = {"responseModalities": list(settings.response_modalities)}
    image_config = {
        key: value
        for key, value in (
            ("aspectRatio", settings.aspect_ratio),
            ("imageSize", settings.image_size),
        )
        if value is not None
    }
    if image_config:
        generation["imageConfig"] = image_config
    body = {"contents": [{"role": "user", "parts": parts}], "generationConfig": generation}
    return json.dumps(body, separators=(",", ":")).encode()


def _error_answer(status: int, payload: Any, key: str) -> ProviderError:
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        reason = provider_text(error.get("status") or status, limit=64)
        message = provider_text(error.get("message", ""), secret=key)
    else:
        reason, message = str(status), "no error body"
    return error_for_status(status)(
        f"gemini answered HTTP {status} {reason}: {message}", reason=reason
    )


def _result_image(payload: dict[str, Any], answer_id: str | None, key: str) -> bytes:
    """The decoded last non-thought image, or the failure the answer describes."""
    candidates = payload.get("candidates")
    if candidates is None or candidates == []:
        feedback = payload.get("promptFeedback")
        block = feedback.get("blockReason") if isinstance(feedback, dict) else None
        if block:
            reason = provider_text(block, limit=64)
            raise ProviderPermanentError(
                f"gemini blocked the prompt ({reason})", response_id=answer_id, reason=reason
            )
        raise ProviderTransientError(
            "gemini answered without a candidate", response_id=answer_id, reason="NO_CANDIDATES"
        )
    candidate = candidates[0] if isinstance(candidates, list) else None
    if not isinstance(candidate, dict):
        raise ProviderPermanentError(
            "gemini answered with a malformed candidate", reason="malformed_answer"
        )
    content = candidate.get("content") or {}
    parts = (content.get("parts") or []) if isinstance(content, dict) else None
    if not isinstance(parts, list) or not all(isinstance(part, dict) for part in parts):
        raise ProviderPermanentError(
            "gemini answered with malformed content parts", reason="malformed_answer"
        )
    image: Any = None
    texts: list[str] = []
    for part in parts:
        blob = part.get("inlineData", part.get("inline_data"))
        if part.get("thought") is True:
            continue
        if isinstance(blob, dict):
            image = blob
        elif isinstance(part.get("text"), str):
            texts.append(part["text"])
    if image is not None:
        return _decoded(image.get("data"))
    finish = provider_text(candidate.get("finishReason") or "", limit=64)
    said = " ".join(
        text
        for text in (candidate.get("finishMessage"), " ".join(texts))
        if isinstance(text, str) and text
    )
    message = f"gemini answered without an image (finishReason {finish or 'none'})"
    if said:
        message += ": " + provider_text(said, secret=key, limit=300)
    kind = ProviderTransientError if finish in RETRIED_FINISH_REASONS else ProviderPermanentError
    raise kind(message, response_id=answer_id, reason=finish or "NO_IMAGE")


def _decoded(data: object) -> bytes:
    if not isinstance(data, str) or not data:
        raise ProviderPermanentError(
            "gemini answered with an image part without data", reason="malformed_answer"
        )
    try:
        # Proto JSON allows the URL-safe alphabet too.
        return base64.b64decode(data.translate(_URLSAFE), validate=True)
    except (binascii.Error, ValueError):
        raise ProviderPermanentError(
            "gemini answered with image data that is not base64", reason="bad_base64"
        ) from None


_URLSAFE = str.maketrans("-_", "+/")


def gemini_usage(payload: dict[str, Any], model: str) -> Usage | None:
    """`usageMetadata` as billed: prompt tokens by modality (text, image), the
    answer's image tokens, and its text and thinking tokens, both billed as text
    output. Without the per-modality details, prompt tokens count as text and
    the answer's as image tokens (the dearer guess for an image model)."""
    meta = payload.get("usageMetadata")
    if not isinstance(meta, dict):
        return None
    reported = {
        name: meta[name]
        for name in (
            "promptTokenCount",
            "candidatesTokenCount",
            "thoughtsTokenCount",
            "totalTokenCount",
            "promptTokensDetails",
            "candidatesTokensDetails",
        )
        if name in meta and _plain(meta[name])
    }
    if version := _text_or_none(payload.get("modelVersion")):
        reported["modelVersion"] = version
    prompt = _by_modality(meta.get("promptTokensDetails"))
    answer = _by_modality(meta.get("candidatesTokensDetails"))
    prompt_total = _count(meta, "promptTokenCount")
    answer_total = _count(meta, "candidatesTokenCount")
    thoughts = _count(meta, "thoughtsTokenCount")
    if not prompt:
        prompt = {"TEXT": prompt_total}
    if not answer:
        answer = {"IMAGE": answer_total}
    return Usage(
        model=model,
        input_text_tokens=prompt_total - prompt.get("IMAGE", 0),
        input_image_tokens=prompt.get("IMAGE", 0),
        output_text_tokens=answer_total - answer.get("IMAGE", 0) + thoughts,
        output_image_tokens=answer.get("IMAGE", 0),
        reported=reported,
    )


def _count(meta: dict[str, Any], name: str) -> int:
    value = meta.get(name)
    return value if isinstance(value, int) and value > 0 else 0


def _by_modality(details: object) -> dict[str, int]:
    """`[{"modality": "IMAGE", "tokenCount": 1120}, …]` as {modality: tokens}."""
    counts: dict[str, int] = {}
    if isinstance(details, list):
        for entry in details:
            if isinstance(entry, dict) and isinstance(entry.get("tokenCount"), int):
                modality = str(entry.get("modality", "TEXT"))
                counts[modality] = counts.get(modality, 0) + max(0, entry["tokenCount"])
    return counts


def _plain(value: object) -> bool:
    """A count, or a list of per-modality counts: what a usage record may keep."""
    if isinstance(value, int):
        return True
    return (
        isinstance(value, list)
        and all(
            isinstance(entry, dict)
            and all(isinstance(v, int | str) and len(str(v)) <= 32 for v in entry.values())
            for entry in value[:8]
        )
        and len(value) <= 8
    )


def _text_or_none(value: object) -> str | None:
    return provider_text(value, limit=200) if isinstance(value, str) and value else None
