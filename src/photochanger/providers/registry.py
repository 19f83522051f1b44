"""Providers by name. Adding one is its module plus one line in `PROVIDERS`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from photochanger.config import Settings
from photochanger.providers.base import OperationSettings, ProviderDriver
from photochanger.providers.echo import EchoDriver
from photochanger.providers.gemini import GeminiDriver
from photochanger.providers.local.driver import LocalDriver
from photochanger.providers.openai import OpenAIDriver
from photochanger.providers.pricing import PriceTable, price_key
from photochanger.providers.turbotext import TurbotextDriver

PROVIDERS: tuple[type[ProviderDriver], ...] = (
    LocalDriver,
    GeminiDriver,
    OpenAIDriver,
    TurbotextDriver,
)
"""Every provider a server offers, in the order lists show them."""

PRICES_AS_OF = date(2026, 12, 7)
"""When the drivers' list prices (`ProviderDriver.prices`) were read."""

TEST_PROVIDERS: tuple[type[ProviderDriver], ...] = (EchoDriver,)
"""Registered only with `PHOTOCHANGER_ENABLE_TEST_PROVIDERS=true`."""


class UnknownProvider(LookupError):
    pass


class UnknownOperation(LookupError):
    pass


class ProviderRegistry:
    def __init__(self, drivers: Iterable[ProviderDriver]) -> None:
        self._drivers: dict[str, ProviderDriver] = {}
        for driver in drivers:
            if driver.name in self._drivers:
                raise ValueError(f"two providers are named {driver.name!r}")
            self._drivers[driver.name] = driver

    def __iter__(self) -> Iterator[ProviderDriver]:
        return iter(self._drivers.values())

    def get(self, name: str) -> ProviderDriver:
        try:
            return self._drivers[name]
        except KeyError:
            raise UnknownProvider(f"unknown provider {name!r}") from None

    def default_prices(self) -> PriceTable:
        """The price table before an admin saves one: every provider's list
        prices, in USD, as of `PRICES_AS_OF`."""
        return PriceTable(
            currency="USD",
            as_of=PRICES_AS_OF,
            models={
                price_key(driver.name, model): price
                for driver in self
                for model, price in driver.prices.items()
            },
        )

    @property
    def with_api_keys(self) -> list[str]:
        """The names of the providers that take an API key."""
        return [driver.name for driver in self if driver.takes_api_key]

    def parse_settings(
        self, provider: str, operation: str, raw: Mapping[str, Any]
    ) -> OperationSettings:
        """Validate a slot's stored settings with the driver's model.

        Raises `UnknownProvider`, `UnknownOperation` or pydantic's `ValidationError`."""
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


def provider_classes(
    config: Settings, extra: Sequence[type[ProviderDriver]] = ()
) -> tuple[type[ProviderDriver], ...]:
    """The providers this configuration registers: `PROVIDERS`, the test ones when
    enabled, then `extra` (a test's own provider, or an embedding program's)."""
    tests = TEST_PROVIDERS if config.enable_test_providers else ()
    return (*PROVIDERS, *tests, *extra)


def build_registry(
    config: Settings, extra: Sequence[type[ProviderDriver]] = ()
) -> ProviderRegistry:
    """The drivers of `provider_classes`, built from `config` (not started)."""
    return ProviderRegistry(
        driver.from_config(config) for driver in provider_classes(config, extra)
    )


__all__ = [
    "PROVIDERS",
    "TEST_PROVIDERS",
    "ProviderRegistry",
    "UnknownOperation",
    "UnknownProvider",
    "build_registry",
    "provider_classes",
]
