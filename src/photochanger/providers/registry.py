"""Providers by name. Adding one is a module plus one line in `build_registry`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import ValidationError

from photochanger.config import Settings
from photochanger.providers.base import OperationSettings, ProviderDriver, ProviderName
from photochanger.providers.echo import EchoDriver
from photochanger.providers.gemini import GeminiDriver
from photochanger.providers.local.driver import LocalDriver
from photochanger.providers.openai import OpenAIDriver
from photochanger.providers.turbotext import TurbotextDriver


class UnknownOperation(LookupError):
    pass


class ProviderRegistry:
    def __init__(self, drivers: Mapping[ProviderName, ProviderDriver]) -> None:
        self._drivers = dict(drivers)

    def __iter__(self) -> Iterator[ProviderDriver]:
        return iter(self._drivers.values())

    def get(self, name: str) -> ProviderDriver:
        try:
            return self._drivers[ProviderName(name)]
        except (ValueError, KeyError):
            raise UnknownOperation(f"unknown provider {name!r}") from None

    def parse_settings(
        self, provider: str, operation: str, raw: Mapping[str, Any]
    ) -> OperationSettings:
        """Validate a slot's stored settings with the driver's model.

        Raises `UnknownOperation` or pydantic's `ValidationError`."""
        driver = self.get(provider)
        op = driver.operations.get(operation)
        if op is None:
            raise UnknownOperation(f"provider {provider!r} has no operation {operation!r}")
        return op.settings_model.model_validate(dict(raw))

    async def start(self) -> None:
        for driver in self._drivers.values():
            await driver.start()

    async def close(self) -> None:
        for driver in self._drivers.values():
            await driver.close()


def build_registry(settings: Settings) -> ProviderRegistry:
    drivers: dict[ProviderName, ProviderDriver] = {
        ProviderName.local: LocalDriver(
            workers=settings.local_workers, log_level=settings.log_level
        ),
        ProviderName.gemini: GeminiDriver(settings.gemini_base_url),
        ProviderName.openai: OpenAIDriver(settings.openai_base_url),
        ProviderName.turbotext: TurbotextDriver(settings.turbotext_base_url),
    }
    if settings.enable_test_providers:
        drivers[ProviderName.echo] = EchoDriver()
    return ProviderRegistry(drivers)


__all__ = ["ProviderRegistry", "UnknownOperation", "ValidationError", "build_registry"]
