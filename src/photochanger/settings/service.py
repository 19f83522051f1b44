from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.config import Settings
from photochanger.db import SessionFactory
from photochanger.settings.repository import SettingRepository
from photochanger.settings.schemas import RuntimeSettings

INGEST_PASSWORD = "ingest_password"  # noqa: S105 - a setting key


async def load_runtime_settings(session: AsyncSession) -> RuntimeSettings:
    values = await SettingRepository(session).all_values()
    known = {key: value for key, value in values.items() if key in RuntimeSettings.model_fields}
    return RuntimeSettings.model_validate(known)


async def ensure_ingest_password(factory: SessionFactory, config: Settings) -> str | None:
    """Store the initial ingest password on a fresh database.

    Uses `PHOTOCHANGER_INGEST_PASSWORD` when set, else generates one. Returns the
    password only when it was generated now, so the caller can show it once."""
    configured = config.ingest_password.get_secret_value() if config.ingest_password else ""
    password = configured or secrets.token_urlsafe(12)
    try:
        async with factory() as session, session.begin():
            repository = SettingRepository(session)
            if await repository.get(INGEST_PASSWORD) is not None:
                return None
            await repository.put(INGEST_PASSWORD, password, updated_by="system")
    except IntegrityError:
        return None  # another replica stored one first
    return None if configured else password


async def read_ingest_password(factory: SessionFactory) -> str:
    async with factory() as session:
        return (await load_runtime_settings(session)).ingest_password
