from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


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
    gemini_api_key: SecretStr | None = Field(
        default=None, description="Write-only; wins over PHOTOCHANGER_GEMINI_API_KEY."
    )
    openai_api_key: SecretStr | None = Field(
        default=None, description="Write-only; wins over PHOTOCHANGER_OPENAI_API_KEY."
    )
    turbotext_api_key: SecretStr | None = Field(
        default=None, description="Write-only; wins over PHOTOCHANGER_TURBOTEXT_API_KEY."
    )


API_KEY_FIELDS = ("gemini_api_key", "openai_api_key", "turbotext_api_key")
"""Write-only settings: answers carry only whether one is set and its last 4."""


class StoredBy(BaseModel):
    updated_at: datetime | None = Field(description="Null while the default applies.")
    updated_by: str | None = Field(description="The admin (or `system`) who set it.")


class NumberSetting(StoredBy):
    value: int


class TextSetting(StoredBy):
    value: str


class ApiKeyState(StoredBy):
    """A provider key as admins see it: never the key itself (SPEC §4.6)."""

    configured: bool
    last4: str | None = Field(description="The key's last 4 characters (null for short keys).")
    source: Literal["settings", "environment"] | None = Field(
        description="`settings` when saved here (it wins), `environment` when only "
        "`PHOTOCHANGER_*_API_KEY` is set, null when neither."
    )


class SettingsView(BaseModel):
    """Every runtime setting with who changed it and when."""

    sync_response_seconds: NumberSetting
    result_ttl_hours: NumberSetting
    slot_concurrency_limit: NumberSetting
    provider_concurrency_limit: NumberSetting
    ingest_password: TextSetting = Field(description="Shown to admins, as the studio asked.")
    gemini_api_key: ApiKeyState
    openai_api_key: ApiKeyState
    turbotext_api_key: ApiKeyState


class SettingsUpdate(BaseModel):
    """A partial update: only the fields sent change. The limits are those of
    `RuntimeSettings`; a key sent as `""` or null is removed (the environment's
    key, if any, applies again)."""

    model_config = ConfigDict(extra="forbid")

    sync_response_seconds: int | None = Field(default=None, description="10–60 seconds.")
    result_ttl_hours: int | None = Field(default=None, description="1–2160 hours.")
    slot_concurrency_limit: int | None = Field(default=None, description="1–1000.")
    provider_concurrency_limit: int | None = Field(default=None, description="1–5000.")
    ingest_password: str | None = Field(default=None, description="Not empty; applies at once.")
    gemini_api_key: str | None = None
    openai_api_key: str | None = None
    turbotext_api_key: str | None = None
