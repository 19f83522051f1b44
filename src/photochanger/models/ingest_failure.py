from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.models.base import Base, UTCDateTime, utcnow


class IngestFailure(Base):
    """One ingest refused for a wrong password, by the client's address. Counted
    by every replica, so an address locked out on one is locked out on all."""

    __tablename__ = "ingest_failure"
    __table_args__ = (Index("ix_ingest_failure_ip", "ip", "failed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ip: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
