from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.models import MediaObject


class MediaRepository:
    """`media_object` rows: one per stored file (SPEC §5.1)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(
        self,
        *,
        kind: str,
        key: str,
        size: int,
        mime: str,
        job_id: str | None = None,
        slot_id: str | None = None,
        expires_at: datetime | None = None,
        media_id: str | None = None,
    ) -> MediaObject:
        row = MediaObject(
            id=media_id or secrets.token_urlsafe(12),
            kind=kind,
            key=key,
            size=size,
            mime=mime,
            job_id=job_id,
            slot_id=slot_id,
            expires_at=expires_at,
        )
        self.session.add(row)
        return row
