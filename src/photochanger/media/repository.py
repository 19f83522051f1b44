"""SQL on `media_object` (and the job columns that point at stored files), as
functions of one connection (see `db.Database`)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, select, update

from photochanger.models import Job, MediaObject

_INSERT = insert(MediaObject)
_RESULT_COLUMNS: tuple[Any, ...] = (
    Job.id,
    Job.slot_id,
    Job.status,
    Job.started_at,
    Job.result_key,
    Job.result_mime,
    Job.result_size,
    Job.result_expires_at,
    Job.preview_key,
)
_RESULT_OF = select(*_RESULT_COLUMNS).where(Job.id == bindparam("b_job_id"))
"""What a public link needs of a job to serve its stored result or preview."""


class MediaRepository:
    """`media_object` rows: one per stored file (SPEC §5.1)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def result_of(self, job_id: str) -> Row[Any] | None:
        """The job's status and the stored files it points at, or None."""
        return self.connection.execute(_RESULT_OF, {"b_job_id": job_id}).first()

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
        created_at: datetime | None = None,
        media_id: str | None = None,
    ) -> str:
        """Record a stored file; returns the row's id (`media_id`, or a new one)."""
        row_id = media_id or secrets.token_urlsafe(12)
        values = {
            "id": row_id,
            "kind": kind,
            "key": key,
            "size": size,
            "mime": mime,
            "job_id": job_id,
            "slot_id": slot_id,
            "expires_at": expires_at,
        }
        if created_at is not None:
            values["created_at"] = created_at
        self.connection.execute(_INSERT, [values])
        return row_id

    def add_preview(
        self, *, job_id: str, slot_id: str, key: str, size: int, expires_at: datetime | None
    ) -> None:
        """Record a job's stored WebP preview and point the job at it, unless the
        job is gone or already points at it (another replica made the same one)."""
        current = self.connection.execute(select(Job.preview_key).where(Job.id == job_id)).first()
        if current is None or current.preview_key == key:
            return
        self.add(
            kind="preview",
            key=key,
            size=size,
            mime="image/webp",
            job_id=job_id,
            slot_id=slot_id,
            expires_at=expires_at,
        )
        self.connection.execute(update(Job).where(Job.id == job_id).values(preview_key=key))

    def mark_cleaned(self, key: str, when: datetime) -> None:
        self.connection.execute(
            update(MediaObject)
            .where(MediaObject.key == key, MediaObject.cleaned_at.is_(None))
            .values(cleaned_at=when)
        )
