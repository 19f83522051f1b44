from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class RuntimeSettings(BaseModel):
    """The values every replica reads on each request. Defaults apply to keys
    that have never been set."""

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
