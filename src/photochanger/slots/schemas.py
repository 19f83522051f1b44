"""Shapes of the slots API (SPEC §6.2), as the slot page sees them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from photochanger.json_values import WITHOUT_NUL, JsonBool, json_number, not_null
from photochanger.template_media.schemas import TemplateMediaInfo, TemplateRole


class SlotSummary(BaseModel):
    id: str
    name: str
    provider: str
    operation: str
    active: bool
    version: int
    updated_at: datetime
    updated_by: str
    ingest_url: str = Field(description="Where the booth POSTs its photos.")
    last_job_at: datetime | None = Field(description="Start of the slot's newest job.")
    last_job_status: str | None = Field(
        description="That job's status: `pending`, `done`, `failed` or `timeout`."
    )
    last_job_outcome: str | None = Field(
        description="That job's outcome: `success`, `degraded` (answered with the guest's "
        "photo or a free fallback's), `failed`, `timeout` or `pending`."
    )
    daily_budget: float | None = Field(
        description="The most the slot may spend a UTC day, in `currency`; null: no limit."
    )
    spent_today: float = Field(
        description="Estimated cost of its jobs started since 00:00 UTC, test runs "
        "included, in `currency`."
    )
    budget_reached: bool = Field(
        description="`spent_today` is at or over `daily_budget`: its paid providers are "
        "skipped until midnight UTC."
    )


class SlotList(BaseModel):
    currency: str = Field(description="ISO 4217 code of the amounts: the price table's.")
    spent_today: float = Field(description="Every slot's `spent_today` together.")
    slots: list[SlotSummary]


class FallbackConfig(BaseModel):
    """A second provider configuration, run when the primary fails (SPEC §3.5)."""

    model_config = ConfigDict(extra="forbid")

    provider: str
    operation: str
    settings: dict[str, Any] = Field(default_factory=dict)


class RecentResult(BaseModel):
    job_id: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    source: str
    mime: str | None
    public_url: str
    preview_url: str
    expires_at: datetime | None


class SlotDetail(BaseModel):
    id: str
    name: str
    provider: str
    operation: str
    settings: dict[str, Any]
    fallback: FallbackConfig | None
    on_failure: str
    active: bool
    size_limit_mb: int
    max_input_megapixels: float
    keep_metadata: bool
    daily_budget: float | None
    version: int
    updated_at: datetime
    updated_by: str
    ingest_url: str
    template_media: list[TemplateMediaInfo] = Field(description="The images the slot uses.")
    recent_results: list[RecentResult] = Field(
        description="The 10 newest results that have not expired, newest first."
    )


OnFailure = Literal["error", "original"]
ON_FAILURE_HELP = (
    "What the booth gets when the provider and its fallback fail: `error` (the "
    "§3.2 error) or `original` (200 with the guest's own photo, upright and without "
    "metadata, marked `X-PhotoChanger-Degraded`), answered `on_failure_margin_seconds` "
    "before the window closes."
)
MEGAPIXELS_HELP = (
    "A photo larger than this is scaled down (upright, high-quality resampling) "
    "before it is sent to a remote provider; `local` works at full size."
)
KEEP_METADATA_HELP = (
    "Keep the guest photo's EXIF/XMP/IPTC (GPS, camera serial, owner) in results; "
    "off by default, when the orientation is applied to the pixels instead."
)


class SlotUpdate(BaseModel):
    """A slot's new configuration. A field left out keeps its current value; only
    `fallback`, `settings` and `daily_budget` may be sent as null (`not_null`)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(
        default=None, min_length=1, max_length=200, pattern=WITHOUT_NUL, json_schema_extra=not_null
    )
    provider: str | None = Field(default=None, json_schema_extra=not_null)
    operation: str | None = Field(default=None, json_schema_extra=not_null)
    settings: dict[str, Any] | None = Field(
        default=None, description="Validated by the operation's settings model."
    )
    fallback: FallbackConfig | None = Field(
        default=None, description="null removes the fallback; left out keeps it."
    )
    on_failure: OnFailure | None = Field(
        default=None, json_schema_extra=not_null, description=ON_FAILURE_HELP
    )
    active: JsonBool | None = Field(default=None, json_schema_extra=not_null)
    size_limit_mb: int | None = Field(default=None, ge=1, le=20, json_schema_extra=not_null)
    max_input_megapixels: float | None = Field(
        default=None, ge=0.1, le=100, json_schema_extra=not_null, description=MEGAPIXELS_HELP
    )
    keep_metadata: JsonBool | None = Field(
        default=None, json_schema_extra=not_null, description=KEEP_METADATA_HELP
    )
    daily_budget: float | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        description="The most the slot may spend a day (UTC), in the price table's "
        "currency; once reached, paid providers are skipped and the slot answers as "
        "`on_failure` says. null removes it; left out keeps it.",
    )
    template_media: dict[TemplateRole, str | None] = Field(
        default_factory=dict,
        description="role -> template media id, merged by role: a role not named keeps "
        "its image, null removes it, an id replaces it.",
    )
    version: int | None = Field(
        default=None,
        description="The version the form was loaded at; a save over a newer one is a 409.",
    )

    _numbers = field_validator(
        "size_limit_mb", "max_input_megapixels", "daily_budget", "version", mode="before"
    )(json_number)


class SlotPayload(BaseModel):
    """Unsaved form values a test run applies over the stored slot."""

    model_config = ConfigDict(extra="forbid")

    provider: str | None = None
    operation: str | None = None
    settings: dict[str, Any] | None = None
    fallback: FallbackConfig | None = None
    template_media: dict[TemplateRole, str | None] = Field(default_factory=dict)
    on_failure: OnFailure | None = None
    max_input_megapixels: float | None = Field(default=None, ge=0.1, le=100)
    keep_metadata: JsonBool | None = None

    _numbers = field_validator("max_input_megapixels", mode="before")(json_number)


class AuditRecord(BaseModel):
    at: datetime
    actor: str
    action: str
    before: Any
    after: Any


class SlotAudit(BaseModel):
    entries: list[AuditRecord]
