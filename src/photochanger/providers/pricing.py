"""Spend in view (SPEC §10): what one provider call used, as the provider
reported it, and what that costs by a per-model price list.

Each driver maps its own usage report onto `Usage`'s billable counters and
declares its models' list prices beside its settings (`ProviderDriver.prices`);
the admin's price table (a runtime setting) starts from those. Costs are kept
in millionths of the table's currency, so sums are exact integers in SQL on
SQLite and PostgreSQL alike: tokens × price per million tokens is micros."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from photochanger.json_values import NUL, WITHOUT_NUL, JsonDate, json_number

MICROS = 1_000_000
MAX_PRICE = 1_000_000.0


@dataclass(frozen=True)
class Usage:
    """One call's billable counts. `model` is the model the call asked for (a
    price-table key); `reported` keeps the provider's own report for the job."""

    model: str
    input_text_tokens: int = 0
    input_image_tokens: int = 0
    output_text_tokens: int = 0
    """Text and thinking tokens of the answer: both are billed as text output."""
    output_image_tokens: int = 0
    images: int = 0
    """Results billed per image rather than per token (Turbotext)."""
    reported: Mapping[str, Any] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        """The job's record of it: the counters that are not zero, and the report."""
        counts = {
            name: value for name, value in self.__dict__.items() if isinstance(value, int) and value
        }
        return {"model": self.model, **counts, "reported": dict(self.reported)}


def _price(description: str) -> Any:
    return Field(default=0.0, ge=0.0, le=MAX_PRICE, description=description)


class ModelPrice(BaseModel):
    """A model's prices, in the table's currency. Token prices are per million
    tokens, as providers list them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input_text_per_million: float = _price("Per million input text tokens (the prompt).")
    input_image_per_million: float = _price("Per million input image tokens (photo, templates).")
    output_text_per_million: float = _price("Per million output text and thinking tokens.")
    output_image_per_million: float = _price("Per million output image tokens.")
    per_image: float = _price("Per image returned, for providers that bill by the image.")

    _numbers = field_validator("*", mode="before")(json_number)

    def cost_micros(self, usage: Usage) -> int:
        """The call's cost in millionths of the currency, rounded half up."""
        total = (
            Decimal(usage.input_text_tokens) * Decimal(str(self.input_text_per_million))
            + Decimal(usage.input_image_tokens) * Decimal(str(self.input_image_per_million))
            + Decimal(usage.output_text_tokens) * Decimal(str(self.output_text_per_million))
            + Decimal(usage.output_image_tokens) * Decimal(str(self.output_image_per_million))
            + Decimal(usage.images) * Decimal(str(self.per_image)) * MICROS
        )
        return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def price_key(provider: str, model: str) -> str:
    """How the table names a provider's model: `gemini/gemini-3.1-flash-image`."""
    return f"{provider}/{model}"


class PriceTable(BaseModel):
    """The admin's price list: one currency, a price per `provider/model`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: str = Field(
        default="USD",
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217 code of every price here and of the costs and budgets.",
    )
    as_of: JsonDate | None = Field(
        default=None, description="When these prices were read off the providers' lists."
    )
    models: dict[str, ModelPrice] = Field(
        default_factory=dict,
        description="Prices by `provider/model` (for Turbotext the model is the method). "
        "A model not listed is not priced: its jobs show no cost.",
        json_schema_extra={"propertyNames": {"pattern": WITHOUT_NUL}},
    )

    @field_validator("models")
    @classmethod
    def _storable_names(cls, models: dict[str, ModelPrice]) -> dict[str, ModelPrice]:
        if any(NUL in name for name in models):
            raise ValueError("a model's name must not contain a NUL character")
        return models

    def cost_micros(self, provider: str, usage: Usage) -> int | None:
        """The call's cost, or None when its model has no price here."""
        price = self.models.get(price_key(provider, usage.model))
        return None if price is None else price.cost_micros(usage)


def micros_to_amount(micros: int) -> float:
    """Millionths of the currency as an amount (for answers and CSV)."""
    return micros / MICROS


def amount_to_micros(amount: float) -> int:
    return int((Decimal(str(amount)) * MICROS).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def budget_reached(daily_budget: float | None, spent_micros: int) -> bool:
    """Whether a slot that spent `spent_micros` today has reached its daily
    budget (None: no budget). The ingest, the dashboard and the statistics
    all decide it here."""
    return daily_budget is not None and spent_micros >= amount_to_micros(daily_budget)
