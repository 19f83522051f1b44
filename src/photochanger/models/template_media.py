from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.models.base import Base, UTCDateTime, utcnow


class TemplateMedia(Base):
    """An admin-uploaded image bound to a slot with a role (background, style, face)."""

    __tablename__ = "template_media"
    __table_args__ = (Index("ix_template_media_slot_role", "slot_id", "role"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    slot_id: Mapped[str | None] = mapped_column(ForeignKey("slot.id"), nullable=True)
    role: Mapped[str] = mapped_column(String(32))
    media_object_id: Mapped[str] = mapped_column(ForeignKey("media_object.id"))
    filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="system")
