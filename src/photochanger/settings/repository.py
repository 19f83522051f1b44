"""SQL on `setting`, as functions of one connection (see `db.Database`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from photochanger.models import Setting
from photochanger.models.base import utcnow
from photochanger.providers.pricing import PriceTable
from photochanger.settings.schemas import PRICES

_ALL_VALUES = select(Setting.key, Setting.value)
_ALL_ROWS = select(Setting.key, Setting.value, Setting.updated_at, Setting.updated_by)


@dataclass(frozen=True)
class StoredSetting:
    value: Any
    updated_at: datetime
    updated_by: str


class SettingRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def all_values(self) -> dict[str, Any]:
        return dict(self.connection.execute(_ALL_VALUES).all())

    def all_rows(self) -> dict[str, StoredSetting]:
        """Every stored key with who changed it and when."""
        rows = self.connection.execute(_ALL_ROWS).all()
        return {row.key: StoredSetting(row.value, row.updated_at, row.updated_by) for row in rows}

    def get(self, key: str) -> StoredSetting | None:
        query = _ALL_ROWS.where(Setting.key == key)
        row = self.connection.execute(query).first()
        return None if row is None else StoredSetting(row.value, row.updated_at, row.updated_by)

    def price_currency(self) -> str | None:
        """The currency of the saved price table, in which every cost and budget
        is; None while none is saved (the providers' list prices apply)."""
        stored = self.get(PRICES)
        return None if stored is None else PriceTable.model_validate(stored.value).currency

    def delete(self, key: str) -> None:
        """Forget a key, so its default (or the environment's value) applies again."""
        self.connection.execute(delete(Setting).where(Setting.key == key))

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
