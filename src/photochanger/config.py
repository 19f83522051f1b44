"""The one place that reads the environment (and `.env`)."""

from __future__ import annotations

import ipaddress
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
MIN_METRICS_TOKEN_LENGTH = 32


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
    media_store: Literal["local", "s3"] = Field(
        default="local",
        description="Where results, previews, template and provider media live: `local` "
        "(the `media_root` directory) or `s3` (an S3-compatible bucket that replicas share).",
    )
    s3_bucket: str | None = Field(
        default=None, description="The `s3` store's bucket (it must exist); required for `s3`."
    )
    s3_prefix: str = Field(
        default="",
        description="Key prefix of every object the store writes (`photochanger/prod`), so a "
        "bucket can hold other data or several installations; no key escapes it.",
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        description="The S3 API's URL for MinIO, Ceph, R2 … (`http://minio:9000`); unset "
        "for AWS itself.",
    )
    s3_region: str | None = Field(
        default=None,
        description="The bucket's region; unset: `AWS_REGION`/`AWS_DEFAULT_REGION` or the "
        "AWS config, else `us-east-1`.",
    )
    s3_path_style: bool = Field(
        default=False,
        description="Name the bucket in the URL's path (`endpoint/bucket/key`), not its "
        "host name; most MinIO and self-hosted servers need it.",
    )
    s3_access_key_id: SecretStr | None = Field(
        default=None,
        description="Access key of the `s3` store; unset: the usual AWS chain "
        "(`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, `AWS_PROFILE`, an instance role).",
    )
    s3_secret_access_key: SecretStr | None = Field(
        default=None, description="Secret of `s3_access_key_id` (both or neither)."
    )
    s3_public_results: Literal["stream", "redirect"] = Field(
        default="stream",
        description="How `/public/results/{job_id}` serves a result from the bucket: "
        "`stream` it through the app, or `redirect` (307) to a presigned URL of the object.",
    )
    s3_presign_seconds: int = Field(
        default=300,
        ge=10,
        le=7 * 24 * 3600,
        description="Lifetime of a presigned result URL (`redirect` mode); each request to "
        "the public link makes a new one.",
    )
    s3_public_endpoint_url: str | None = Field(
        default=None,
        description="The endpoint guests' browsers reach the bucket at, used in presigned "
        "URLs when it differs from `s3_endpoint_url` (default: that one).",
    )
    s3_max_connections: int = Field(
        default=64,
        ge=1,
        le=1000,
        description="Open connections to the S3 endpoint at most; each result streamed to "
        "a guest holds one for as long as the download lasts.",
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
    metrics_access: Literal["loopback", "token", "off"] = Field(
        default="loopback",
        description="Who may read `GET /metrics`: `loopback` clients on this host only, "
        "`token` any client sending `Authorization: Bearer <metrics_token>`, `off` nobody.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="The bearer token of `metrics_access=token`, at least 32 characters.",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1,::1",
        description="Comma-separated addresses or networks (`172.30.57.10`, "
        "`10.0.0.0/24`) of the reverse proxies whose `X-Forwarded-For` and "
        "`X-Forwarded-Proto` `photochanger serve` believes; the client's address (login "
        "lockout, gallery limit, `loopback` metrics) comes from that header only when "
        "the connection comes from one of them. `*` is refused; empty trusts none.",
    )

    api_docs: Literal["auto", "public", "login", "off"] = Field(
        default="auto",
        description="Who may read `/docs`, `/redoc` and `/openapi.json`: `public`, "
        "`login` (an admin's token or session cookie), `off`; `auto` is `login` in "
        "production and `public` otherwise.",
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

    @model_validator(mode="after")
    def _metrics_token_is_set(self) -> Settings:
        token = self.metrics_token.get_secret_value() if self.metrics_token else ""
        if self.metrics_access == "token" and len(token) < MIN_METRICS_TOKEN_LENGTH:
            raise ValueError(
                "PHOTOCHANGER_METRICS_ACCESS=token needs PHOTOCHANGER_METRICS_TOKEN of at "
                f"least {MIN_METRICS_TOKEN_LENGTH} random characters"
            )
        return self

    @model_validator(mode="after")
    def _s3_store_is_complete(self) -> Settings:
        if self.media_store == "s3" and not self.s3_bucket:
            raise ValueError("PHOTOCHANGER_MEDIA_STORE=s3 needs PHOTOCHANGER_S3_BUCKET")
        if (self.s3_access_key_id is None) != (self.s3_secret_access_key is None):
            raise ValueError(
                "set both PHOTOCHANGER_S3_ACCESS_KEY_ID and PHOTOCHANGER_S3_SECRET_ACCESS_KEY, "
                "or neither (to use the AWS credential chain)"
            )
        return self

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        """Addresses and networks as uvicorn reads them (an entry it cannot read
        would silently match nothing), never `*`: uvicorn would then take the
        leftmost `X-Forwarded-For` entry, which the guest writes."""
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            if entry == "*":
                raise ValueError(
                    "PHOTOCHANGER_FORWARDED_ALLOW_IPS must list the proxy's addresses or "
                    "networks, not `*` (any sender could then choose its own address)"
                )
            try:
                if "/" in entry:
                    ipaddress.ip_network(entry)
                else:
                    ipaddress.ip_address(entry)
            except ValueError as error:
                raise ValueError(
                    f"PHOTOCHANGER_FORWARDED_ALLOW_IPS: {entry!r} is not an IP address or "
                    f"network ({error})"
                ) from None
        return ",".join(entries)

    @field_validator("s3_prefix")
    @classmethod
    def _clean_prefix(cls, value: str) -> str:
        prefix = value.strip("/")
        if prefix and any(part in ("", ".", "..") for part in prefix.split("/")):
            raise ValueError("the S3 prefix must be plain path segments (no `.`, `..` or `//`)")
        return prefix

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

    @property
    def api_docs_access(self) -> Literal["public", "login", "off"]:
        if self.api_docs != "auto":
            return self.api_docs
        return "login" if self.environment == "production" else "public"

    @property
    def trusted_proxies(self) -> list[str]:
        """`forwarded_allow_ips` as the list uvicorn takes (empty: trust none)."""
        return self.forwarded_allow_ips.split(",") if self.forwarded_allow_ips else []

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
