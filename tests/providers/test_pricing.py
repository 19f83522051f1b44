"""Pricing one call (SPEC §10 "spend in view"): tokens × price per million is
micros, counted in decimal so sums of many calls stay exact."""

from __future__ import annotations

import pytest

from photochanger.config import Settings
from photochanger.providers.pricing import ModelPrice, PriceTable, Usage, amount_to_micros
from photochanger.providers.registry import build_registry


def test_each_counter_is_priced_at_its_own_rate() -> None:
    price = ModelPrice(
        input_text_per_million=0.1,
        input_image_per_million=0.2,
        output_text_per_million=0.3,
        output_image_per_million=30,
        per_image=0.015,
    )
    usage = Usage(
        model="m",
        input_text_tokens=10,
        input_image_tokens=20,
        output_text_tokens=30,
        output_image_tokens=1000,
        images=2,
    )
    # 1 + 4 + 9 + 30 000 micros for the tokens, 30 000 for two images: exact,
    # where binary floats would give 0.1 * 10 = 1.0000000000000002.
    assert price.cost_micros(usage) == 60_014


@pytest.mark.parametrize(("tokens", "micros"), [(1, 2), (3, 5), (5, 8)])
def test_half_a_micro_rounds_up(tokens: int, micros: int) -> None:
    assert (
        ModelPrice(input_text_per_million=1.5).cost_micros(
            Usage(model="m", input_text_tokens=tokens)
        )
        == micros
    )


def test_the_table_prices_by_provider_and_model_and_knows_what_it_does_not_price() -> None:
    table = PriceTable(currency="EUR", models={"gemini/x": ModelPrice(per_image=0.04)})
    assert table.cost_micros("gemini", Usage(model="x", images=1)) == 40_000
    assert table.cost_micros("openai", Usage(model="x", images=1)) is None
    assert table.cost_micros("gemini", Usage(model="y", images=1)) is None
    assert amount_to_micros(0.1) == 100_000


def test_the_default_table_is_every_providers_list_prices(config: Settings) -> None:
    table = build_registry(config).default_prices()
    assert table.currency == "USD"
    keys = set(table.models)
    assert {"gemini/gemini-3.1-flash-image", "gemini/gemini-3-pro-image"} <= keys
    assert {"openai/gpt-image-1.5", "openai/gpt-image-1", "openai/gpt-image-1-mini"} <= keys
    # Every model a slot can choose has a list price (Turbotext publishes none).
    for provider in ("gemini", "openai"):
        driver = build_registry(config).get(provider)
        schema = driver.operations["edit"].settings_model.model_json_schema()
        models = schema["properties"]["model"].get("enum") or [
            option["const"] for option in schema["properties"]["model"].get("anyOf", [])
        ]
        assert models
        assert {f"{provider}/{model}" for model in models} <= keys
