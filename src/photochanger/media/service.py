"""The public media links: results, their previews, and provider media (SPEC §5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Connection, Row

from photochanger.db import Database
from photochanger.errors import InternalError, ResultExpired, ResultNotFound
from photochanger.media.image_type import EXTENSIONS
from photochanger.media.preview import PreviewMaker
from photochanger.media.provider_media import PublishedMedia, read_provider_media
from photochanger.media.repository import MediaRepository
from photochanger.media.results import MAX_JOB_ID_LENGTH, live_result
from photochanger.media.store import MediaStore
from photochanger.models.base import utcnow

log = structlog.get_logger("photochanger.media")


@dataclass(frozen=True)
class ResultDownload:
    key: str
    mime: str
    size: int | None
    filename: str
    expires_at: datetime | None
    """When the result expires: a link to it must not outlive it."""


class MediaService:
    """Decides what a public media link serves: the endpoints stream it from the store."""

    def __init__(self, database: Database, store: MediaStore, previews: PreviewMaker) -> None:
        self._database = database
        self._store = store
        self._previews = previews

    async def _remove_expired(self, key: str, now: datetime) -> None:
        """The file first, then its row marked cleaned: a store that fails
        leaves the row for cleanup to try again, never a file no row names."""
        try:
            await self._store.delete(key)
        except OSError:
            log.warning("expired_result_not_deleted", exc_info=True)
            return
        await self._database.write(
            lambda connection: MediaRepository(connection).mark_cleaned(key, now)
        )

    async def result(self, job_id: str) -> ResultDownload:
        """A done job's stored result. `ResultNotFound` for an unknown or
        unfinished job; `ResultExpired` past its expiry (the file is removed then,
        if cleanup has not yet) or when the file is gone."""
        if len(job_id) > MAX_JOB_ID_LENGTH:
            raise ResultNotFound("no such result")

        def look_up(connection: Connection) -> Row[Any]:
            job = MediaRepository(connection).result_of(job_id)
            if job is None or job.status != "done" or job.result_key is None:
                raise ResultNotFound("no such result")
            return job

        job = await self._database.read(look_up)
        assert job.result_key is not None
        assert job.result_mime is not None
        now = utcnow()
        if job.result_expires_at is not None and job.result_expires_at <= now:
            await self._remove_expired(job.result_key, now)
            raise ResultExpired("this result has expired")
        if not await self._store.exists(job.result_key):
            raise ResultExpired("this result is no longer stored")
        return ResultDownload(
            key=job.result_key,
            mime=job.result_mime,
            size=job.result_size,
            filename=f"photochanger-{job.id}.{EXTENSIONS.get(job.result_mime, 'bin')}",
            expires_at=job.result_expires_at,
        )

    async def live_result(self, job_id: str) -> Row[Any]:
        """A done job's result that a link can still show (see `results.live_result`)."""
        return await live_result(self._database, self._store, job_id)

    async def preview_key(self, job_id: str) -> str:
        """Where the preview of a done job's live result is stored, made now if
        it is the first request. The same errors as `result`, and
        `InternalError` when the result cannot be read as an image."""
        job = await self.live_result(job_id)
        try:
            return await self._previews.key_for(job)
        except FileNotFoundError:
            raise ResultExpired("this result is no longer stored") from None
        except Exception:
            log.exception("preview_failed", job_id=job.id)
            raise InternalError("the preview could not be made") from None

    async def provider_media(self, token: str) -> PublishedMedia:
        """The bytes behind a live provider-media token (see `read_provider_media`)."""
        return await read_provider_media(self._database, self._store, token)
