from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from photochanger.json_values import WITHOUT_NUL, json_number, not_null
from photochanger.providers.pricing import PriceTable
from photochanger.providers.registry import PROVIDERS


class RuntimeSettings(BaseModel):
    """The values every replica reads on each request. Defaults apply to keys
    that have never been set. Frozen: an ingest snapshot shares one instance
    with every request that reuses it (`ingest/snapshot.py`)."""

    model_config = ConfigDict(frozen=True)

    sync_response_seconds: int = Field(
        default=48, ge=10, le=60, description="T_sync: the longest an ingest may take."
    )
    result_ttl_hours: int = Field(default=168, ge=1, le=24 * 90)
    slot_concurrency_limit: int = Field(default=10, ge=1, le=1000)
    provider_concurrency_limit: int = Field(default=30, ge=1, le=5000)
    ingest_password: str = Field(default="", description="Shown to admins; never logged.")
    on_failure_margin_seconds: int = Field(
        default=3,
        ge=1,
        le=9,
        description="How long before T_sync a slot with `on_failure: original` stops "
        "waiting for its provider and answers with the guest's photo.",
    )
    provider_keys: Mapping[str, SecretStr] = Field(
        default_factory=dict,
        description="The API keys saved here, by provider name; each wins over "
        "`PHOTOCHANGER_<NAME>_API_KEY`. Write-only.",
    )
    prices: PriceTable | None = Field(
        default=None,
        description="The price table jobs are costed by; null until an admin saves "
        "one, when the providers' list prices apply.",
    )


VALUE_SETTINGS: tuple[str, ...] = tuple(
    name for name in RuntimeSettings.model_fields if name not in ("provider_keys", "prices")
)
"""The settings admins see the value of, each stored in a row of its own name;
`prices` has a row of its own name too, shown as `PricesSetting`."""
PRICES = "prices"

_API_KEY_SETTING_SUFFIX = "_api_key"


def api_key_setting(provider: str) -> str:
    """The `setting` row of a provider's saved key, `<name>_api_key`: the name it
    had as a settings field of its own, so existing installs keep their keys."""
    return f"{provider}{_API_KEY_SETTING_SUFFIX}"


def runtime_settings(rows: Mapping[str, Any]) -> RuntimeSettings:
    """The runtime settings in the `setting` rows (name to value); rows that are
    none (the JWT secret, the gallery share) are left out."""
    values = {name: rows[name] for name in (*VALUE_SETTINGS, PRICES) if name in rows}
    keys = {
        name.removesuffix(_API_KEY_SETTING_SUFFIX): value
        for name, value in rows.items()
        if name.endswith(_API_KEY_SETTING_SUFFIX)
    }
    return RuntimeSettings.model_validate({**values, "provider_keys": keys})


class StoredBy(BaseModel):
    updated_at: datetime | None = Field(description="Null while the default applies.")
    updated_by: str | None = Field(description="The admin (or `system`) who set it.")


class NumberSetting(StoredBy):
    value: int


class TextSetting(StoredBy):
    value: str


class PricesSetting(StoredBy):
    value: PriceTable
    defaults: bool = Field(
        description="True while no table was saved: `value` is the providers' list prices."
    )


class ApiKeyState(StoredBy):
    """A provider key as admins see it: never the key itself (SPEC §4.6)."""

    configured: bool
    last4: str | None = Field(description="The key's last 4 characters (null for short keys).")
    source: Literal["settings", "environment"] | None = Field(
        description="`settings` when saved here (it wins), `environment` when only "
        "`PHOTOCHANGER_<NAME>_API_KEY` is set, null when neither."
    )


class SettingsView(BaseModel):
    """Every runtime setting with who changed it and when."""

    sync_response_seconds: NumberSetting
    result_ttl_hours: NumberSetting
    slot_concurrency_limit: NumberSetting
    provider_concurrency_limit: NumberSetting
    ingest_password: TextSetting = Field(description="Shown to admins, as the studio asked.")
    on_failure_margin_seconds: NumberSetting
    prices: PricesSetting
    provider_keys: dict[str, ApiKeyState] = Field(
        description="One entry per registered provider that takes an API key, by "
        "provider name: never the key, only whether one is configured and where from."
    )


MAX_SECRET_LENGTH = 1024
"""The longest ingest password or provider key a save takes."""

KEYED_PROVIDERS = [driver.name for driver in PROVIDERS if driver.takes_api_key]
"""The built-in providers that take a key: the names `provider_keys` documents. A
provider an embedding program registers is taken as well; the document of this
module-level model cannot know it."""


def _not_null_text(schema: dict[str, Any]) -> None:
    """`ingest_password`, with the limits the service checks (the service, not
    pydantic, so that the settings page shows its messages)."""
    not_null(schema)
    # Not only spaces, and no NUL (`WITHOUT_NUL`) anywhere.
    schema.update(minLength=1, maxLength=MAX_SECRET_LENGTH, pattern=r"^[^\x00]*[^\s\x00][^\x00]*$")


def _keys_by_provider(schema: dict[str, Any]) -> None:
    schema["propertyNames"] = {"enum": KEYED_PROVIDERS}
    key = {"type": "string", "maxLength": MAX_SECRET_LENGTH, "pattern": WITHOUT_NUL}
    schema["additionalProperties"] = {"anyOf": [key, {"type": "null"}]}


def _number(least: int, most: int, description: str) -> Any:
    return Field(
        default=None, ge=least, le=most, json_schema_extra=not_null, description=description
    )


class SettingsUpdate(BaseModel):
    """A partial update: only the fields sent change. The limits are those of
    `RuntimeSettings`."""

    model_config = ConfigDict(extra="forbid")

    sync_response_seconds: int | None = _number(10, 60, "10–60 seconds.")
    result_ttl_hours: int | None = _number(1, 2160, "1–2160 hours.")
    slot_concurrency_limit: int | None = _number(1, 1000, "1–1000.")
    provider_concurrency_limit: int | None = _number(1, 5000, "1–5000.")
    ingest_password: str | None = Field(
        default=None,
        description="Not empty, not only spaces, no NUL character; applies at once.",
        json_schema_extra=_not_null_text,
    )
    on_failure_margin_seconds: int | None = _number(1, 9, "1–9 seconds.")
    prices: PriceTable | None = Field(
        default=None,
        json_schema_extra=not_null,
        description="The whole price table, replacing the saved one (or the defaults).",
    )
    provider_keys: dict[str, str | None] = Field(
        default_factory=dict,
        description='New API keys by provider name (`{"<name>": "…"}`); only the '
        'providers named change. A key sent as `""` or null is removed, so the '
        "environment's key, if any, applies again. A provider that is unknown or "
        "takes no key is a 422 on `provider_keys.<name>`.",
        json_schema_extra=_keys_by_provider,
    )

    _numbers = field_validator(
        "sync_response_seconds",
        "result_ttl_hours",
        "slot_concurrency_limit",
        "provider_concurrency_limit",
        "on_failure_margin_seconds",
        mode="before",
    )(json_number)
