"""The one place that reads the environment (and `.env`)."""

from __future__ import annotations

import socket
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

ENV_PREFIX = "PHOTOCHANGER_"

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
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore"
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
        "that providers fetching their inputs by URL read (so it must be reachable by "
        "such a provider when a slot uses it).",
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
    provider_api_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Each provider's `PHOTOCHANGER_<NAME>_API_KEY`, by provider name; a "
        "key saved on the settings page wins.",
    )
    provider_base_urls: dict[str, str] = Field(
        default_factory=dict,
        description="Each provider's `PHOTOCHANGER_<NAME>_BASE_URL`, by provider name, "
        "where set (tests and proxies point a provider elsewhere); else the provider's "
        "default.",
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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        per_provider = ProviderVariables(settings_cls, env_settings, dotenv_settings)
        return init_settings, env_settings, dotenv_settings, per_provider, file_secret_settings

    @field_validator("public_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("provider_base_urls")
    @classmethod
    def _strip_slashes(cls, value: dict[str, str]) -> dict[str, str]:
        return {name: url.rstrip("/") for name, url in value.items()}

    def provider_api_key(self, provider: str) -> str | None:
        """The environment's key of a provider (`PHOTOCHANGER_<NAME>_API_KEY`), or
        None when it is unset or empty."""
        key = self.provider_api_keys.get(provider)
        if key is None or not key.get_secret_value():
            return None
        return key.get_secret_value()

    def provider_base_url(self, provider: str, default: str) -> str:
        """`PHOTOCHANGER_<NAME>_BASE_URL` of a provider when set, else `default`."""
        return self.provider_base_urls.get(provider) or default

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


API_KEY_SUFFIX = "_API_KEY"
BASE_URL_SUFFIX = "_BASE_URL"
_PER_PROVIDER = {API_KEY_SUFFIX: "provider_api_keys", BASE_URL_SUFFIX: "provider_base_urls"}


def api_key_variable(provider: str) -> str:
    """The environment variable of a provider's key: `PHOTOCHANGER_<NAME>_API_KEY`."""
    return f"{ENV_PREFIX}{provider.upper()}{API_KEY_SUFFIX}"


def base_url_variable(provider: str) -> str:
    """The environment variable of a provider's base URL: `PHOTOCHANGER_<NAME>_BASE_URL`."""
    return f"{ENV_PREFIX}{provider.upper()}{BASE_URL_SUFFIX}"


class ProviderVariables(PydanticBaseSettingsSource):
    """`PHOTOCHANGER_<NAME>_API_KEY` and `PHOTOCHANGER_<NAME>_BASE_URL` from the
    environment and `.env` (the environment wins), as the maps `provider_api_keys`
    and `provider_base_urls` by provider name.

    Every `<NAME>` is read: the providers are declared by their drivers, which
    import this module, so it cannot list them; the registry uses the names it
    declares. A variable of a field of its own (`PHOTOCHANGER_PUBLIC_BASE_URL`)
    is that field's, never a provider's."""

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        env: PydanticBaseSettingsSource,
        dotenv: PydanticBaseSettingsSource,
    ) -> None:
        super().__init__(settings_cls)
        # Lowest priority first, so the environment overwrites the file.
        self._sources = [s for s in (dotenv, env) if isinstance(s, EnvSettingsSource)]

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything is read in __call__

    def __call__(self) -> dict[str, Any]:
        found: dict[str, dict[str, str]] = {target: {} for target in _PER_PROVIDER.values()}
        prefix = ENV_PREFIX.lower()
        for source in self._sources:
            # Keys are lower-cased: the settings are not case-sensitive.
            for variable, value in source.env_vars.items():
                if value is None or not variable.startswith(prefix):
                    continue
                rest = variable[len(prefix) :]
                if rest in self.settings_cls.model_fields:
                    continue
                for suffix, target in _PER_PROVIDER.items():
                    provider = rest.removesuffix(suffix.lower())
                    if provider and provider != rest:
                        found[target][provider] = value
        return {target: values for target, values in found.items() if values}
