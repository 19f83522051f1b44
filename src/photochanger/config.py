"""The one place that reads the environment (and `.env`)."""

from __future__ import annotations

import socket
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

GLOBAL_UPLOAD_CAP_MB = 20
"""SPEC §3.1: no upload is ever larger than this, whatever a slot says."""
MB = 1024 * 1024
"""Bytes in a MB as the size limits count them (`size_limit_mb`, the cap)."""

MIN_JWT_SECRET_LENGTH = 32
EXAMPLE_JWT_SECRET = "replace-me-with-at-least-32-random-characters"  # noqa: S105
"""The placeholder the deployment examples show; refused like any short secret."""


class Settings(BaseSettings):
    """Process configuration. Runtime settings an admin changes (ingest password,
    sync window, limits) live in the database instead, so every replica sees them."""

    model_config = SettingsConfigDict(
        env_prefix="PHOTOCHANGER_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Literal["development", "production", "test"] = Field(
        default="development",
        description="`development`, `test` or `production`; production refuses unsafe "
        "settings (test providers).",
    )
    data_dir: Path = Field(
        default=Path(".data"),
        description="Where the default SQLite database, media and temp files live.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL: `sqlite+aiosqlite:///path.db` (default: "
        "`<data_dir>/photochanger.db`) or `postgresql+asyncpg://user:pass@host/db`.",
    )
    media_root: Path | None = Field(
        default=None, description="Local media store directory (default `<data_dir>/media`)."
    )
    spool_dir: Path | None = Field(
        default=None,
        description="Where uploads that do not stay in memory are spooled while streaming "
        "(default `<data_dir>/spool`).",
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="External base URL used in `X-Result-Url`, printed ingest URLs, the "
        "QR codes of guest pages and the public gallery, and the provider-media URLs "
        "Turbotext fetches its inputs from (so it must be reachable by Turbotext when a "
        "slot uses it).",
    )
    ingest_password: SecretStr | None = Field(
        default=None,
        description="Initial ingest password on a fresh database; generated and printed "
        "once when absent. Afterwards the stored setting wins.",
    )
    instance_id: str = Field(
        default_factory=socket.gethostname,
        description="Name of this replica; jobs it left `pending` are closed as "
        "`interrupted` when it starts again.",
    )
    log_level: str = Field(default="INFO", description="Python log level name.")
    photo_memory_mb: int = Field(
        default=16,
        ge=0,
        le=4096,
        description="Megabytes of uploaded photos kept in memory at once, all requests "
        "together: an upload up to 4 MiB stays in memory while this has room, the rest "
        "stream through temp files in the spool directory.",
    )
    local_workers: int = Field(
        default=2, ge=1, le=64, description="Worker processes for the `local` provider's images."
    )
    gemini_api_key: SecretStr | None = Field(
        default=None, description="Google Gemini API key; the settings page's key wins."
    )
    openai_api_key: SecretStr | None = Field(
        default=None, description="OpenAI API key; the settings page's key wins."
    )
    turbotext_api_key: SecretStr | None = Field(
        default=None, description="Turbotext API key; the settings page's key wins."
    )
    gemini_base_url: str = Field(
        default="https://generativelanguage.googleapis.com",
        description="Base URL of the Gemini API (tests and proxies point it elsewhere).",
    )
    openai_base_url: str = Field(
        default="https://api.openai.com", description="Base URL of the OpenAI API."
    )
    turbotext_base_url: str = Field(
        default="https://www.turbotext.ru", description="Base URL of the Turbotext API."
    )
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HS256 key of the admin tokens. When absent one is generated and "
        "stored in the database, shared by every replica. Outside `development` a "
        "short or well-known value is refused.",
    )
    cleanup_enabled: bool = Field(
        default=True,
        description="Run cleanup (expired results, previews, provider media) periodically "
        "inside the server; turn off when cron runs `photochanger cleanup` instead.",
    )
    cleanup_interval_seconds: float = Field(
        default=900,
        gt=0,
        description="Seconds between the server's cleanup runs (the first comes 30-60 s "
        "after start, jittered so replicas do not run in step).",
    )
    enable_test_providers: bool = Field(
        default=False,
        description="Register the `echo` provider (returns the input, optional delay). "
        "For tests and benchmarks only.",
    )

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.environment == "production" and self.enable_test_providers:
            raise ValueError("PHOTOCHANGER_ENABLE_TEST_PROVIDERS must be off in production")
        if self.environment != "development" and self.jwt_secret is not None:
            secret = self.jwt_secret.get_secret_value()
            if len(secret) < MIN_JWT_SECRET_LENGTH or secret == EXAMPLE_JWT_SECRET:
                raise ValueError(
                    f"PHOTOCHANGER_JWT_SECRET must be at least {MIN_JWT_SECRET_LENGTH} "
                    "random characters outside development (or unset, to generate one)"
                )
        return self

    @field_validator("public_base_url", "gemini_base_url", "openai_base_url", "turbotext_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'photochanger.db').resolve()}"

    @cached_property
    def resolved_media_root(self) -> Path:
        return (self.media_root or self.data_dir / "media").resolve()

    @cached_property
    def resolved_spool_dir(self) -> Path:
        return (self.spool_dir or self.data_dir / "spool").resolve()

    def prepare_directories(self) -> None:
        """Create the directories this configuration points at."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.resolved_media_root.mkdir(parents=True, exist_ok=True)
        self.resolved_spool_dir.mkdir(parents=True, exist_ok=True)
        if self.resolved_database_url.startswith("sqlite"):
            db_path = self.resolved_database_url.split(":///", 1)[1]
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
