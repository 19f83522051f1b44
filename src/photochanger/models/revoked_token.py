from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.models.base import Base, UTCDateTime


class RevokedToken(Base):
    """An admin token ended by a logout before it expired. Every replica checks
    these rows, so a logout holds everywhere; a row is removed once the token
    would have expired anyway."""

    __tablename__ = "revoked_token"
    __table_args__ = (Index("ix_revoked_token_expires_at", "expires_at"),)

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
