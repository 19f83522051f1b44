from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Integer
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.models.base import Base

CONFIG_VERSION_ROW = 1


class ConfigVersion(Base):
    """One row whose `value` grows with every change to `slot` or `setting`.

    Database triggers (migration 0005) bump it, whoever writes: the admin API of
    any replica, a migration, an operator's SQL. An ingest may then reuse the slot
    and settings it read before, as long as its admission, inside the serialized
    transaction, still finds the same value (`ingest/snapshot.py`)."""

    __tablename__ = "config_version"
    __table_args__ = (CheckConstraint(f"id = {CONFIG_VERSION_ROW}", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger)
