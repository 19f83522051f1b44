from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.models.base import Base, UTCDateTime, utcnow

NOT_CLEANED = text("cleaned_at IS NULL")


class MediaObject(Base):
    """Every file in the media store has one row (SPEC §5.1)."""

    __tablename__ = "media_object"
    __table_args__ = (
        # Cleanup looks for live rows whose expiry has passed.
        Index(
            "ix_media_object_expiring",
            "expires_at",
            sqlite_where=NOT_CLEANED,
            postgresql_where=NOT_CLEANED,
        ),
        Index("ix_media_object_job", "job_id"),
        Index("ix_media_object_slot_kind", "slot_id", "kind"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # result | preview | template | provider_media
    key: Mapped[str] = mapped_column(String(300), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[str | None] = mapped_column(ForeignKey("job.id"), nullable=True)
    slot_id: Mapped[str | None] = mapped_column(ForeignKey("slot.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cleaned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
