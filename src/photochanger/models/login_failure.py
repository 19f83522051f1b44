from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.models.base import Base, UTCDateTime, utcnow


class LoginFailure(Base):
    """One failed login. The lockout (SPEC §6.1) counts these rows, so it holds
    across replicas and restarts."""

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_username", "username", "failed_at"),
        Index("ix_login_failure_ip", "ip", "failed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
