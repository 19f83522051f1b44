"""`openai`: photo edits through OpenAI's Images API, `POST /v1/images/edits`
(SPEC §4.4).

One multipart request: the options as form fields, then the photo and the template
images as repeated `image[]` files (the field name the official SDK uses for a list
of images); the answer's `data[0].b64_json` is the result."""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from photochanger.media.image_type import EXTENSIONS
from photochanger.providers.base import (
    CHECK_PROMPT,
    CheckRequest,
    JobContext,
    Operation,
    OperationSettings,
    ProviderError,
    ProviderPermanentError,
    ProviderResult,
    ru,
)
from photochanger.providers.http import (
    CallRecord,
    HttpDriver,
    error_for_status,
    json_body,
    logged_call,
    provider_text,
    response_id,
    send,
    verified_image,
)
from photochanger.providers.pricing import ModelPrice, Usage

PROVIDER = "openai"
MAX_IMAGES = 16

OpenAIModel = Literal["gpt-image-1.5", "gpt-image-1-mini", "gpt-image-2"]

INPUT_FIDELITY: Mapping[str, frozenset[str]] = {
    "gpt-image-1.5": frozenset({"high", "low"}),
    "gpt-image-1-mini": frozenset({"low"}),
    "gpt-image-2": frozenset(),
}
"""Which `input_fidelity` values each model accepts (the SDK's `images.edit` docs:
mini takes only `low`, gpt-image-2 none). Adding a model: an entry here and its
id in `OpenAIModel`."""

RETIRED_MODELS: Mapping[str, str] = {
    "gpt-image-1": "shut down on 2026-10-23; use gpt-image-1.5 or gpt-image-2",
    "dall-e-2": "retired on 2026-05-12; use a GPT image model",
    "dall-e-3": "retired on 2026-05-12; use a GPT image model",
}

PERMANENT_CODES = frozenset(
    {"moderation_blocked", "insufficient_quota", "billing_hard_limit_reached"}
)
"""Error codes that another try cannot fix, whatever the HTTP status (a 429 for an
exhausted quota is not a rate limit)."""


class OpenAIEditSettings(OperationSettings):
    """Settings of the OpenAI `edit` operation."""

    model: OpenAIModel = Field(
        default="gpt-image-1.5",
        title="Model",
        description="gpt-image-1.5 (default), gpt-image-1-mini (cheapest) or gpt-image-2.",
        json_schema_extra=ru(
            "Модель",
            "gpt-image-1.5 (по умолчанию), gpt-image-1-mini (самая дешёвая) или gpt-image-2.",
        ),
    )
    prompt: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = Field(
        max_length=32_000,
        title="Prompt",
        description="What to do with the photo (up to 32,000 characters). The photo is the "
        "first image, the template images follow in their order.",
        json_schema_extra=ru(
            "Запрос",
            "Что сделать с фото (до 32 000 символов). Фото — первое изображение, "
            "изображения шаблонов идут за ним по порядку.",
        ),
    )
    size: Literal["1024x1024", "1536x1024", "1024x1536", "auto"] | None = Field(
        default=None,
        title="Size",
        description="Size of the result; empty is auto.",
        json_schema_extra=ru(
            "Размер",
            "Размер результата; пусто — автоматически.",
            {"auto": "Автоматически"},
            labels={"auto": "Automatic"},
        ),
    )
    quality: Literal["low", "medium", "high", "auto"] | None = Field(
        default=None,
        title="Quality",
        description="Higher is slower and costs more; empty is auto.",
        json_schema_extra=ru(
            "Качество",
            "Чем выше, тем медленнее и дороже; пусто — автоматически.",
            {"low": "Низкое", "medium": "Среднее", "high": "Высокое", "auto": "Автоматически"},
            labels={"low": "Low", "medium": "Medium", "high": "High", "auto": "Automatic"},
        ),
    )
    output_format: Literal["png", "jpeg", "webp"] | None = Field(
        default=None,
        title="Output format",
        description="Format of the result; empty is png.",
        json_schema_extra=ru("Формат результата", "Формат файла результата; пусто — png."),
    )
    output_compression: int | None = Field(
        default=None,
        ge=0,
        le=100,
        title="Output compression",
        description="Compression level 0–100 %, only with jpeg or webp output.",
        json_schema_extra=ru(
            "Сжатие результата",
            "Степень сжатия 0–100 %, только для формата jpeg или webp.",
        ),
    )
    background: Literal["transparent", "opaque", "auto"] | None = Field(
        default=None,
        title="Background",
        description="transparent needs png or webp output; empty is auto.",
        json_schema_extra=ru(
            "Фон",
            "Для прозрачного фона нужен формат png или webp; пусто — автоматически.",
            {"transparent": "Прозрачный", "opaque": "Непрозрачный", "auto": "Автоматически"},
            labels={"transparent": "Transparent", "opaque": "Opaque", "auto": "Automatic"},
        ),
    )
    input_fidelity: Literal["high", "low"] | None = Field(
        default=None,
        title="Input fidelity",
        description="How closely the result keeps the faces and details of the photo. "
        "gpt-image-1.5: high or low; gpt-image-1-mini: low only; gpt-image-2: leave empty.",
        json_schema_extra=ru(
            "Точность к исходнику",
            "Насколько точно результат сохраняет лица и детали фото. gpt-image-1.5: "
            "высокая или низкая; gpt-image-1-mini: только низкая; gpt-image-2: оставьте пустым.",
            {"high": "Высокая", "low": "Низкая"},
            labels={"high": "High", "low": "Low"},
        ),
    )

    @field_validator("model", mode="before")
    @classmethod
    def _not_retired(cls, value: object) -> object:
        if isinstance(value, str) and value in RETIRED_MODELS:
            raise ValueError(f"{value} was {RETIRED_MODELS[value]}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> OpenAIEditSettings:
        if self.output_compression is not None and self.output_format not in ("jpeg", "webp"):
            raise ValueError("output_compression needs output_format jpeg or webp")
        if self.background == "transparent" and self.output_format == "jpeg":
            raise ValueError("a transparent background needs output_format png or webp")
        accepted = INPUT_FIDELITY[self.model]
        if self.input_fidelity is not None and self.input_fidelity not in accepted:
            offered = f"only {', '.join(sorted(accepted))}" if accepted else "none"
            raise ValueError(
                f"input_fidelity {self.input_fidelity} is not accepted by {self.model} "
                f"(it takes {offered}: leave it empty)"
            )
        return self

    def form_fields(self) -> list[tuple[str, str]]:
        """The text fields of the request, in order; options left empty are not sent."""
        fields = [("model", self.model), ("prompt", self.prompt)]
        for name in ("size", "quality", "output_format", "output_compression", "background"):
            value = getattr(self, name)
            if value is not None:
                fields.append((name, str(value)))
        if self.input_fidelity is not None:
            fields.append(("input_fidelity", self.input_fidelity))
        return fields


class OpenAIDriver(HttpDriver):
    """OpenAI GPT Image models through the Images API, one shared client."""

    name: str = PROVIDER
    title: str = "OpenAI"
    title_i18n: Mapping[str, str] = {"ru": "OpenAI"}
    operations: Mapping[str, Operation] = {
        "edit": Operation(
            "edit",
            "Edit the photo by prompt and template images",
            OpenAIEditSettings,
            # Every template of the slot is sent after the photo, whatever its role.
            template_roles=("template", "style", "face", "background"),
            title_i18n={"ru": "Изменить фото по описанию и шаблонам"},
        )
    }
    takes_api_key: bool = True
    prices: Mapping[str, ModelPrice] = {
        # OpenAI's list prices per million tokens, read 2026-12-07 (README "Spend").
        "gpt-image-2": ModelPrice(
            input_text_per_million=5.00,
            input_image_per_million=8.00,
            output_text_per_million=10.00,
            output_image_per_million=30.00,
        ),
        "gpt-image-1.5": ModelPrice(
            input_text_per_million=5.00,
            input_image_per_million=8.00,
            output_text_per_million=10.00,
            output_image_per_million=32.00,
        ),
        "gpt-image-1": ModelPrice(
            input_text_per_million=5.00,
            input_image_per_million=10.00,
            output_image_per_million=40.00,
        ),
        "gpt-image-1-mini": ModelPrice(
            input_text_per_million=2.00,
            input_image_per_million=2.50,
            output_image_per_million=8.00,
        ),
    }
    default_base_url: str | None = "https://api.openai.com"
    check: CheckRequest | None = CheckRequest(
        "edit", {"prompt": CHECK_PROMPT, "quality": "low", "size": "1024x1024"}
    )

    async def edit(self, ctx: JobContext) -> ProviderResult:
        settings = ctx.settings
        assert isinstance(settings, OpenAIEditSettings)
        if 1 + len(ctx.templates) > MAX_IMAGES:
            raise ProviderPermanentError(
                f"openai takes at most {MAX_IMAGES} images; this slot sends "
                f"{1 + len(ctx.templates)}",
                reason="too_many_images",
            )

        async def call(key: str, record: CallRecord) -> ProviderResult:
            photo = await asyncio.to_thread(ctx.image.read_bytes)
            files = [("image[]", (f"photo.{EXTENSIONS[ctx.image.mime]}", photo, ctx.image.mime))]
            files += [
                ("image[]", (f"template-{n}.{EXTENSIONS[t.mime]}", t.data, t.mime))
                for n, t in enumerate(ctx.templates, start=1)
            ]
            response, raw = await send(
                self.client,
                "POST",
                "/v1/images/edits",
                deadline=ctx.deadline,
                provider=PROVIDER,
                data=dict(settings.form_fields()),
                files=files,
                headers={"authorization": f"Bearer {key}"},
            )
            record.http_status = response.status_code
            answer_id = response_id(response.headers, "x-request-id")
            payload = json_body(raw)
            if response.status_code != 200:
                raise _error_answer(response.status_code, payload, key, answer_id)
            data = _result_image(payload, answer_id)
            mime = await asyncio.to_thread(verified_image, data, provider=PROVIDER)
            usage = openai_usage(payload, settings.model)
            return ProviderResult(mime=mime, data=data, response_id=answer_id, usage=usage)

        return await logged_call(ctx, provider=PROVIDER, model=settings.model, call=call)


def _error_answer(status: int, payload: Any, key: str, answer_id: str | None) -> ProviderError:
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        reason = provider_text(error.get("code") or error.get("type") or status, limit=64)
        message = provider_text(error.get("message") or "", secret=key)
    else:
        reason, message = str(status), "no error body"
    kind = ProviderPermanentError if reason in PERMANENT_CODES else error_for_status(status)
    return kind(
        f"openai answered HTTP {status} {reason}: {message}", response_id=answer_id, reason=reason
    )


def _result_image(payload: Any, answer_id: str | None) -> bytes:
    data = payload.get("data") if isinstance(payload, dict) else None
    first = data[0] if isinstance(data, list) and data else None
    encoded = first.get("b64_json") if isinstance(first, dict) else None
    if not isinstance(encoded, str) or not encoded:
        raise ProviderPermanentError(
            "openai answered 200 without data[0].b64_json",
            response_id=answer_id,
            reason="malformed_answer",
        )
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ProviderPermanentError(
            "openai answered with image data that is not base64",
            response_id=answer_id,
            reason="bad_base64",
        ) from None


def openai_usage(payload: dict[str, Any], model: str) -> Usage | None:
    """`usage` as billed: input tokens split into text and image by
    `input_tokens_details`; output tokens are image tokens unless
    `output_tokens_details` says some were text."""
    reported = payload.get("usage")
    if not isinstance(reported, dict):
        return None
    kept = {
        name: reported[name]
        for name in ("input_tokens", "output_tokens", "total_tokens")
        if isinstance(reported.get(name), int)
    }
    details: dict[str, dict[str, int]] = {}
    for name in ("input_tokens_details", "output_tokens_details"):
        found = reported.get(name)
        if isinstance(found, dict):
            details[name] = _counts(found)
    kept.update(details)
    inputs, outputs = kept.get("input_tokens", 0), kept.get("output_tokens", 0)
    input_images = details.get("input_tokens_details", {}).get("image_tokens", 0)
    output_text = details.get("output_tokens_details", {}).get("text_tokens", 0)
    return Usage(
        model=model,
        input_text_tokens=max(0, inputs - input_images),
        input_image_tokens=input_images,
        output_text_tokens=output_text,
        output_image_tokens=max(0, outputs - output_text),
        reported=kept,
    )


def _counts(details: dict[str, Any]) -> dict[str, int]:
    return {
        key: value
        for key, value in details.items()
        if isinstance(key, str) and len(key) <= 40 and isinstance(value, int) and value >= 0
    }
