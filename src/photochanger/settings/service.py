"""Runtime settings: reading them per request, and the admin's view and update
of them (SPEC §6.5)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from photochanger.audit.repository import AuditRepository
from photochanger.config import Settings
from photochanger.db import Database
from photochanger.errors import ValidationFailed, field_errors
from photochanger.json_values import NUL
from photochanger.providers.pricing import PriceTable
from photochanger.settings.repository import SettingRepository, StoredSetting
from photochanger.settings.schemas import (
    MAX_SECRET_LENGTH,
    PRICES,
    VALUE_SETTINGS,
    ApiKeyState,
    NumberSetting,
    PricesSetting,
    RuntimeSettings,
    SettingsView,
    TextSetting,
    api_key_setting,
    runtime_settings,
)

log = structlog.get_logger("photochanger.settings")

LAST4_MIN_LENGTH = 12
"""Shorter keys get no `last4`: four characters of a short key are too much of it."""

INGEST_PASSWORD = "ingest_password"  # noqa: S105 - a setting key


def read_runtime_settings(connection: Connection) -> RuntimeSettings:
    return runtime_settings(SettingRepository(connection).all_values())


async def ensure_ingest_password(database: Database, config: Settings) -> str | None:
    """Store the initial ingest password on a fresh database.

    Uses `PHOTOCHANGER_INGEST_PASSWORD` when set, else generates one. Returns the
    password only when it was generated now, so the caller can show it once."""
    configured = config.ingest_password.get_secret_value() if config.ingest_password else ""
    password = configured or secrets.token_urlsafe(12)

    def store(connection: Connection) -> bool:
        repository = SettingRepository(connection)
        if repository.exists(INGEST_PASSWORD):
            return False
        repository.put(INGEST_PASSWORD, password, updated_by="system")
        return True

    try:
        stored = await database.write(store)
    except IntegrityError:
        return None  # another replica stored one first
    return password if stored and not configured else None


async def read_ingest_password(database: Database) -> str:
    return (await database.read(read_runtime_settings)).ingest_password


class SettingsService:
    """The settings page's reads and writes. Every replica reads the rows on its
    next request, so a change needs no restart anywhere. `key_providers` are the
    registered providers that take an API key, each with a key on the page."""

    def __init__(
        self,
        database: Database,
        config: Settings,
        key_providers: Sequence[str],
        default_prices: PriceTable,
    ) -> None:
        self._database = database
        self._config = config
        self._key_providers = tuple(key_providers)
        self._default_prices = default_prices

    async def view(self) -> SettingsView:
        rows = await self._database.read(lambda c: SettingRepository(c).all_rows())
        return settings_view(rows, self._config, self._key_providers, self._default_prices)

    async def update(self, changes: dict[str, Any], actor: str) -> SettingsView:
        """Apply the fields sent, all or none: one transaction with one audit
        row (secrets masked), then a `settings_changed` event naming the fields."""
        to_store, to_clear = validated_changes(changes, self._key_providers)

        def apply(connection: Connection) -> tuple[list[str], dict[str, StoredSetting]]:
            repository = SettingRepository(connection)
            rows = repository.all_rows()
            defaults = RuntimeSettings(prices=self._default_prices)
            before: dict[str, Any] = {}
            after: dict[str, Any] = {}
            for name, value in to_store.items():
                old = rows.get(name)
                if old is not None and old.value == value:
                    continue
                before[name] = old.value if old is not None else _default(defaults, name)
                after[name] = value
                repository.put(name, value, updated_by=actor)
            for name in to_clear:
                old = rows.get(name)
                if old is not None:
                    before[name], after[name] = old.value, None
                    repository.delete(name)
            if after:
                AuditRepository(connection).record(
                    actor=actor,
                    action="settings.update",
                    target="settings",
                    before=before,
                    after=after,
                )
            return sorted(after), repository.all_rows()

        try:
            changed, rows = await self._database.write(apply)
        except IntegrityError:
            # Another admin stored the same fresh key a moment before: now it exists.
            changed, rows = await self._database.write(apply)
        if changed:
            log.info("settings_changed", fields=changed, actor=actor)
        return settings_view(rows, self._config, self._key_providers, self._default_prices)


def validated_changes(
    changes: dict[str, Any], key_providers: Sequence[str]
) -> tuple[dict[str, Any], list[str]]:
    """(rows to store, rows to remove), checked against `RuntimeSettings`' limits;
    422 naming every invalid field. A provider key is stored in its provider's
    row (`api_key_setting`), trimmed; sent empty or null, that row is removed."""
    candidate = {name: value for name, value in changes.items() if name != "provider_keys"}
    keys, to_clear, errors = _key_changes(changes.get("provider_keys") or {}, key_providers)
    password = candidate.get(INGEST_PASSWORD, "-")
    if isinstance(password, str) and not password.strip():
        errors.append({"field": INGEST_PASSWORD, "message": "must not be empty"})
    for name, value in candidate.items():
        if isinstance(value, str):
            errors.extend({"field": name, "message": problem} for problem in _text_problems(value))
    validated = RuntimeSettings()
    try:
        validated = RuntimeSettings.model_validate(candidate)
    except ValidationError as error:
        errors.extend(field_errors(error.errors()))
    if errors:
        raise ValidationFailed("some settings are not valid", errors)
    stored = {name: getattr(validated, name) for name in candidate}
    if validated.prices is not None:
        stored[PRICES] = validated.prices.model_dump(mode="json")
    elif PRICES in candidate:
        errors.append({"field": PRICES, "message": "must not be null"})
        raise ValidationFailed("some settings are not valid", errors)
    return {**stored, **keys}, to_clear


def _key_changes(
    sent: dict[str, str | None], key_providers: Sequence[str]
) -> tuple[dict[str, str], list[str], list[dict[str, str]]]:
    """(rows to store, rows to remove, field errors) of the `provider_keys` sent."""
    to_store: dict[str, str] = {}
    to_clear: list[str] = []
    errors: list[dict[str, str]] = []
    for provider, key in sent.items():
        field = f"provider_keys.{provider}"
        if provider not in key_providers:
            known = ", ".join(key_providers) or "none"
            message = f"not a provider that takes an API key (those are: {known})"
            errors.append({"field": field, "message": message})
        elif not key:
            to_clear.append(api_key_setting(provider))
        elif problems := _text_problems(key):
            errors.extend({"field": field, "message": problem} for problem in problems)
        else:
            # A pasted key often ends in a newline.
            to_store[api_key_setting(provider)] = key.strip()
    return to_store, to_clear, errors


def _text_problems(value: str) -> list[str]:
    """What is wrong with a password or key as sent (the document's `maxLength`
    and `pattern`)."""
    problems = []
    if len(value) > MAX_SECRET_LENGTH:
        problems.append(f"at most {MAX_SECRET_LENGTH} characters")
    if NUL in value:
        problems.append("must not contain a NUL character")
    return problems


def settings_view(
    rows: dict[str, StoredSetting],
    config: Settings,
    key_providers: Sequence[str],
    default_prices: PriceTable,
) -> SettingsView:
    """What admins see: values with who set them; keys only as `ApiKeyState`.
    Rows that are not runtime settings (the JWT secret, the gallery share) are
    never part of it."""
    runtime = runtime_settings({name: row.value for name, row in rows.items()})
    fields: dict[str, Any] = {}
    for name in VALUE_SETTINGS:
        row = rows.get(name)
        stamp = {
            "updated_at": row.updated_at if row else None,
            "updated_by": row.updated_by if row else None,
        }
        value = getattr(runtime, name)
        if isinstance(value, int):
            fields[name] = NumberSetting(value=value, **stamp)
        else:
            fields[name] = TextSetting(value=value, **stamp)
    prices = rows.get(PRICES)
    fields[PRICES] = PricesSetting(
        value=runtime.prices or default_prices,
        defaults=runtime.prices is None,
        updated_at=prices.updated_at if prices else None,
        updated_by=prices.updated_by if prices else None,
    )
    fields["provider_keys"] = {
        provider: _key_state(rows.get(api_key_setting(provider)), config.provider_api_key(provider))
        for provider in key_providers
    }
    return SettingsView(**fields)


def _key_state(row: StoredSetting | None, environment: str | None) -> ApiKeyState:
    # The same precedence as `settings.provider_keys.api_key_for`: a saved key wins.
    if row is not None and row.value:
        return ApiKeyState(
            configured=True,
            last4=_last4(str(row.value)),
            updated_at=row.updated_at,
            updated_by=row.updated_by,
            source="settings",
        )
    if environment:
        return ApiKeyState(
            configured=True,
            last4=_last4(environment),
            updated_at=None,
            updated_by=None,
            source="environment",
        )
    return ApiKeyState(configured=False, last4=None, updated_at=None, updated_by=None, source=None)


def _last4(key: str) -> str | None:
    return key[-4:] if len(key) >= LAST4_MIN_LENGTH else None


def _default(defaults: RuntimeSettings, name: str) -> Any:
    """A setting's value before it was first stored; None for a provider key."""
    if name == PRICES and defaults.prices is not None:
        return defaults.prices.model_dump(mode="json")
    return getattr(defaults, name) if name in VALUE_SETTINGS else None
