from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.models.base import Base, JSONValue, UTCDateTime, utcnow


class Setting(Base):
    """A runtime setting an admin may change (SPEC §6.5), one row per key, so every
    replica reads the same value on its next request."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONValue)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100), default="system")
