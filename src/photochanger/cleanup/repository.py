"""SQL of cleanup: claim expired `media_object` rows, so that of two cleanups
running at once (two replicas, a cron job and the built-in task) each row is
handled by exactly one."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select, update

from photochanger.models import MediaObject

CLEANABLE_KINDS = ("result", "preview", "provider_media")
"""Never `template`: template media lives until an admin deletes it."""


class CleanupRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def claim_expired(
        self,
        now: datetime,
        *,
        limit: int,
        slot_id: str | None = None,
        skip: Collection[str] = (),
    ) -> tuple[int, list[Row[Any]]]:
        """Mark up to `limit` expired, not yet cleaned rows as cleaned; returns
        (rows seen, the rows this call claimed: id, key, kind, size).

        On PostgreSQL the candidates are locked `FOR UPDATE SKIP LOCKED`: a
        second cleanup passes over rows the first is claiming instead of waiting
        on them (or deadlocking with it). The UPDATE repeats `cleaned_at IS
        NULL`, so a row claimed and committed by another cleanup is never
        claimed twice. SQLite runs one writer at a time and ignores `FOR UPDATE`."""
        candidates = (
            select(MediaObject.id)
            .where(
                MediaObject.cleaned_at.is_(None),
                MediaObject.expires_at <= now,
                MediaObject.kind.in_(CLEANABLE_KINDS),
            )
            .order_by(MediaObject.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if slot_id is not None:
            candidates = candidates.where(MediaObject.slot_id == slot_id)
        if skip:
            candidates = candidates.where(MediaObject.id.not_in(list(skip)))
        ids = list(self.connection.execute(candidates).scalars())
        if not ids:
            return 0, []
        claim = (
            update(MediaObject)
            .where(MediaObject.id.in_(ids), MediaObject.cleaned_at.is_(None))
            .values(cleaned_at=now)
            .returning(MediaObject.id, MediaObject.key, MediaObject.kind, MediaObject.size)
        )
        return len(ids), list(self.connection.execute(claim))

    def release(self, ids: Collection[str]) -> None:
        """Give back rows whose file could not be deleted, for a later run."""
        self.connection.execute(
            update(MediaObject).where(MediaObject.id.in_(list(ids))).values(cleaned_at=None)
        )
