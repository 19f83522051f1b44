from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.models import Setting
from photochanger.models.base import utcnow


class SettingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all_values(self) -> dict[str, Any]:
        rows = await self.session.execute(select(Setting.key, Setting.value))
        return {row.key: row.value for row in rows.all()}

    async def get(self, key: str) -> Setting | None:
        return await self.session.get(Setting, key)

    async def put(self, key: str, value: Any, *, updated_by: str) -> None:
        row = await self.session.get(Setting, key)
        if row is None:
            self.session.add(Setting(key=key, value=value, updated_by=updated_by))
        else:
            row.value = value
            row.updated_by = updated_by
            row.updated_at = utcnow()
