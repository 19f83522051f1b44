"""SQL on `setting`, as functions of one connection (see `db.Database`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from photochanger.models import Setting
from photochanger.models.base import utcnow

_ALL_VALUES = select(Setting.key, Setting.value)


class SettingRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def all_values(self) -> dict[str, Any]:
        return dict(self.connection.execute(_ALL_VALUES).all())

    def exists(self, key: str) -> bool:
        query = select(Setting.key).where(Setting.key == key)
        return self.connection.execute(query).first() is not None

    def put(self, key: str, value: Any, *, updated_by: str) -> None:
        """Set one key. Callers that race on a fresh key get an IntegrityError."""
        values = {"value": value, "updated_by": updated_by, "updated_at": utcnow()}
        if self.exists(key):
            self.connection.execute(update(Setting).where(Setting.key == key).values(**values))
        else:
            self.connection.execute(insert(Setting), [{"key": key, **values}])
