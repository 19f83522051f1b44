from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.models.base import Base, JSONValue, UTCDateTime, utcnow


class Slot(Base):
    """One of the 15 fixed processing configurations (SPEC §2). Never created or
    deleted by the application: a migration seeds them, admins reconfigure them."""

    __tablename__ = "slot"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(32))
    operation: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
    fallback: Mapped[dict[str, Any] | None] = mapped_column(JSONValue, nullable=True)
    on_failure: Mapped[str] = mapped_column(String(16), default="error")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    size_limit_mb: Mapped[int] = mapped_column(Integer, default=20)
    max_input_megapixels: Mapped[float] = mapped_column(Float, default=4.0)
    keep_metadata: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Whether results keep the guest photo's EXIF/XMP/IPTC (SPEC §10); off by default."""
    daily_budget: Mapped[float | None] = mapped_column(Float, nullable=True)
    """The most the slot may spend a day (UTC), in the price table's currency."""
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100), default="system")
