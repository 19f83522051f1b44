"""`echo`: returns the input unchanged, optionally after a delay. Registered only
with `PHOTOCHANGER_ENABLE_TEST_PROVIDERS=true`; it stands in for a provider in
tests and benchmarks (an instant one, or one that hangs past the window)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Literal, Self

from pydantic import Field

from photochanger.config import Settings
from photochanger.providers.base import (
    CheckRequest,
    JobContext,
    Operation,
    OperationSettings,
    ProviderError,
    ProviderNotConfigured,
    ProviderPermanentError,
    ProviderResult,
    ProviderTransientError,
    ru,
)
from photochanger.providers.pricing import ModelPrice


class EchoSettings(OperationSettings):
    """Settings of the `echo` operation."""

    delay_seconds: float = Field(
        default=0.0,
        ge=0.0,
        le=600.0,
        title="Delay",
        description="Seconds to wait before answering.",
        json_schema_extra=ru("Задержка", "Сколько секунд подождать перед ответом."),
    )
    fail_with: str | None = Field(
        default=None,
        max_length=200,
        title="Fail with",
        description="Fail with this message after the delay.",
        json_schema_extra=ru("Ошибка", "Завершиться ошибкой с этим текстом после задержки."),
    )
    fail_kind: Literal["permanent", "transient", "not_configured", "crash"] = Field(
        default="permanent",
        title="Kind of failure",
        description="How `fail_with` fails: a typed provider error, or `crash`, an "
        "unexpected exception (a driver bug).",
        json_schema_extra=ru(
            "Вид ошибки",
            "Как завершается `fail_with`: типизированной ошибкой провайдера или `crash` — "
            "непредвиденным исключением (ошибка драйвера).",
            {
                "permanent": "Постоянная",
                "transient": "Временная",
                "not_configured": "Не настроен",
                "crash": "Сбой драйвера",
            },
            labels={
                "permanent": "Permanent",
                "transient": "Transient",
                "not_configured": "Not configured",
                "crash": "Driver crash",
            },
        ),
    )


_ERRORS: dict[str, type[ProviderError]] = {
    "permanent": ProviderPermanentError,
    "transient": ProviderTransientError,
    "not_configured": ProviderNotConfigured,
}


class EchoDriver:
    name: str = "echo"
    title: str = "Echo (tests only)"
    title_i18n: Mapping[str, str] = {"ru": "Эхо (только для тестов)"}
    operations: Mapping[str, Operation] = {
        "echo": Operation(
            "echo",
            "Return the input",
            EchoSettings,
            title_i18n={"ru": "Вернуть фото без изменений"},
        )
    }
    takes_api_key: bool = False
    remote: bool = False
    prices: Mapping[str, ModelPrice] = {}
    default_base_url: str | None = None
    check: CheckRequest | None = None

    @classmethod
    def from_config(cls, config: Settings) -> Self:
        return cls()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def edit(self, ctx: JobContext) -> ProviderResult:
        settings = ctx.settings
        assert isinstance(settings, EchoSettings)
        if settings.delay_seconds:
            await asyncio.sleep(settings.delay_seconds)
        if settings.fail_with:
            if settings.fail_kind == "crash":
                raise RuntimeError(settings.fail_with)
            raise _ERRORS[settings.fail_kind](settings.fail_with)
        return ProviderResult(mime=ctx.image.mime, data=ctx.image.data, path=ctx.image.path)
