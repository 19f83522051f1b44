from __future__ import annotations

import secrets

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from photochanger.config import Settings
from photochanger.db import Database
from photochanger.settings.repository import SettingRepository
from photochanger.settings.schemas import RuntimeSettings

INGEST_PASSWORD = "ingest_password"  # noqa: S105 - a setting key


def read_runtime_settings(connection: Connection) -> RuntimeSettings:
    values = SettingRepository(connection).all_values()
    known = {key: value for key, value in values.items() if key in RuntimeSettings.model_fields}
    return RuntimeSettings.model_validate(known)


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
