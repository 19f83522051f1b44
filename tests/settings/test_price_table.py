"""The price table and the degraded answer's margin as runtime settings (SPEC
§10): list prices until an admin saves a table, a whole table validated and
audited, applied to the next job on every replica."""

from __future__ import annotations

from typing import Any

import httpx

from photochanger.audit.repository import AuditRepository
from photochanger.db import Database
from support import ADMIN_USERNAME

TABLE: dict[str, Any] = {
    "currency": "RUB",
    "as_of": "2026-12-01",
    "models": {
        "turbotext/mix_images": {"per_image": 12.5},
        "gemini/gemini-3-pro-image": {
            "input_text_per_million": 180,
            "input_image_per_million": 180,
            "output_text_per_million": 1080,
            "output_image_per_million": 10800,
        },
    },
}


async def test_the_list_prices_apply_until_a_table_is_saved(
    admin_client: httpx.AsyncClient,
) -> None:
    body = (await admin_client.get("/api/settings")).json()
    prices = body["prices"]
    assert (prices["defaults"], prices["updated_at"]) == (True, None)
    table = prices["value"]
    assert (table["currency"], table["as_of"]) == ("USD", "2026-12-07")
    flash = table["models"]["gemini/gemini-3.1-flash-image"]
    assert (flash["output_image_per_million"], flash["per_image"]) == (60.0, 0.0)
    assert "openai/gpt-image-1.5" in table["models"]
    assert not any(key.startswith(("local/", "echo/")) for key in table["models"])
    assert body["on_failure_margin_seconds"]["value"] == 3


async def test_a_saved_table_replaces_the_list_and_is_audited(
    admin_client: httpx.AsyncClient, database: Database
) -> None:
    response = await admin_client.put(
        "/api/settings", json={"prices": TABLE, "on_failure_margin_seconds": 5}
    )
    assert response.status_code == 200, response.text
    prices = response.json()["prices"]
    assert prices["defaults"] is False
    assert prices["updated_by"] == ADMIN_USERNAME
    assert set(prices["value"]["models"]) == set(TABLE["models"])
    assert prices["value"]["models"]["turbotext/mix_images"]["per_image"] == 12.5
    assert response.json()["on_failure_margin_seconds"]["value"] == 5
    (entry,) = await database.read(lambda c: AuditRepository(c).for_target("settings"))
    assert entry["after"]["prices"]["currency"] == "RUB"
    assert entry["before"]["prices"]["currency"] == "USD"  # the list prices it replaced


async def test_a_bad_table_is_refused_naming_the_field(admin_client: httpx.AsyncClient) -> None:
    bad = {
        "currency": "rubles",
        "models": {"gemini/gemini-3-pro-image": {"per_image": -1, "per_token": 3}},
    }
    response = await admin_client.put(
        "/api/settings", json={"prices": bad, "on_failure_margin_seconds": 12}
    )
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert {
        "prices.currency",
        "prices.models.gemini/gemini-3-pro-image.per_image",
        "prices.models.gemini/gemini-3-pro-image.per_token",
        "on_failure_margin_seconds",
    } <= fields
    assert (await admin_client.get("/api/settings")).json()["prices"]["defaults"] is True


async def test_prices_and_dates_are_what_the_document_says(
    admin_client: httpx.AsyncClient,
) -> None:
    """pydantic alone reads `false` as the price 0 and `0` as the date 1970-01-01;
    a model's name holds no NUL character."""
    price = {"currency": "USD", "models": {"gemini/gemini-3-pro-image": {"per_image": False}}}
    dated = {"currency": "USD", "as_of": 0, "models": {}}
    # PostgreSQL cannot store a NUL character (SQLite could): refused on both.
    named = {"currency": "USD", "models": {"gemini/\x00": {"per_image": 1}}}
    for table, field in (
        (price, "prices.models.gemini/gemini-3-pro-image.per_image"),
        (dated, "prices.as_of"),
        (named, "prices.models"),
    ):
        response = await admin_client.put("/api/settings", json={"prices": table})
        assert response.status_code == 422
        assert field in {error["field"] for error in response.json()["errors"]}
