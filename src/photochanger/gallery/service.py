"""Sharing the gallery and answering it (SPEC §6.7).

The share window is a row of `setting` (`gallery_share_until`), so every replica
sees a share or a revocation on its next request: the public answer reads it from
the database every time (one primary-key read). Only the gallery's content, the
same for every guest, is cached in memory, for `CONTENT_CACHE_SECONDS`."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from photochanger.audit.repository import AuditRepository
from photochanger.db import Database
from photochanger.errors import GalleryClosed, RateLimited
from photochanger.gallery.archive import ArchiveFile
from photochanger.gallery.limiter import SlidingWindowLimiter
from photochanger.gallery.repository import GalleryRepository
from photochanger.gallery.schemas import (
    GalleryResult,
    GallerySlot,
    GalleryView,
    PublicGallery,
    ShareState,
)
from photochanger.media.image_type import EXTENSIONS
from photochanger.media.links import preview_url, result_url
from photochanger.models.base import utcnow
from photochanger.settings.repository import SettingRepository, StoredSetting

SHARE_SETTING = "gallery_share_until"
CONTENT_CACHE_SECONDS = 30.0
PUBLIC_REQUESTS_PER_MINUTE = 30
PAGE_PATH = "/pubgallery"
"""The public gallery's page; its QR code and the admin's view give its absolute URL."""

log = structlog.get_logger("photochanger.gallery")


class GalleryService:
    """Built once per process (it holds the cache and the rate limiter)."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._limiter = SlidingWindowLimiter(PUBLIC_REQUESTS_PER_MINUTE, 60.0)
        self._cached: tuple[float, list[GallerySlot]] | None = None
        self._refreshing = asyncio.Lock()

    async def share(self, minutes: int, actor: str) -> ShareState:
        until = utcnow() + timedelta(minutes=minutes)
        state = await self._write_share(until, actor, "gallery.share")
        log.info("gallery_shared", share_until=until.isoformat(), actor=actor)
        return state

    async def revoke(self, actor: str) -> ShareState:
        state = await self._write_share(None, actor, "gallery.revoke")
        log.info("gallery_revoked", actor=actor)
        return state

    async def _write_share(self, until: datetime | None, actor: str, action: str) -> ShareState:
        def write(connection: Connection) -> ShareState:
            return _set_share(connection, until, actor, action=action)

        try:
            return await self._database.write(write)
        except IntegrityError:
            # Two admins shared a never-shared gallery at once; the row exists now.
            return await self._database.write(write)

    async def state(self) -> ShareState:
        row = await self._database.read(lambda c: SettingRepository(c).get(SHARE_SETTING))
        return _share_state(row)

    async def admin_view(self, page_url: str) -> GalleryView:
        """The share state and fresh content, whether shared or not."""
        state = await self.state()
        return GalleryView(share=state, page_url=page_url, slots=await self._load_content())

    async def public_view(self, client: str) -> PublicGallery:
        """429 past the client's rate, 403 outside the window (checked in the
        database on every request, so a revocation closes it at once)."""
        retry_after = self._limiter.hit(client)
        if retry_after is not None:
            raise RateLimited(
                f"at most {PUBLIC_REQUESTS_PER_MINUTE} gallery requests a minute",
                retry_after=retry_after,
            )
        state = await self.state()
        if not state.open or state.share_until is None:
            raise GalleryClosed("the gallery is not shared right now")
        return PublicGallery(share_until=state.share_until, slots=await self._cached_content())

    async def archive_files(self, client: str) -> list[ArchiveFile]:
        """The photos of the public gallery for one ZIP: the same checks and
        content as `public_view`, then where each result is stored."""
        view = await self.public_view(client)
        job_ids = [result.job_id for slot in view.slots for result in slot.results]
        if not job_ids:
            return []
        rows = await self._database.read(
            lambda c: GalleryRepository(c).result_files(job_ids, utcnow())
        )
        return [
            ArchiveFile(
                name=f"{row.slot_id}/{row.finished_at:%Y%m%d-%H%M%S}-{row.id}."
                f"{EXTENSIONS.get(row.result_mime, 'bin')}",
                key=row.result_key,
            )
            for row in rows
        ]

    async def _cached_content(self) -> list[GallerySlot]:
        async with self._refreshing:  # one query refreshes it, not every waiting guest
            cached = self._cached
            if cached is None or time.monotonic() - cached[0] > CONTENT_CACHE_SECONDS:
                cached = (time.monotonic(), await self._load_content())
                self._cached = cached
        now = utcnow()
        # A result may expire while it sits in the cache.
        slots = [
            slot.model_copy(
                update={
                    "results": [
                        result
                        for result in slot.results
                        if result.expires_at is None or result.expires_at > now
                    ]
                }
            )
            for slot in cached[1]
        ]
        return [slot for slot in slots if slot.results]

    async def _load_content(self) -> list[GallerySlot]:
        return await self._database.read(_content)


def _content(connection: Connection) -> list[GallerySlot]:
    repository = GalleryRepository(connection)
    now = utcnow()
    slots = []
    for slot in repository.active_slots():
        results = [
            GalleryResult(
                job_id=row.id,
                result_url=result_url(row.id),
                preview_url=preview_url(row.id),
                finished_at=row.finished_at,
                expires_at=row.result_expires_at,
            )
            for row in repository.latest_results(slot.id, now)
        ]
        if results:
            slots.append(GallerySlot(slot_id=slot.id, name=slot.name, results=results))
    return slots


def _set_share(
    connection: Connection, until: datetime | None, actor: str, *, action: str
) -> ShareState:
    repository = SettingRepository(connection)
    before = _share_state(repository.get(SHARE_SETTING))
    value = until.isoformat() if until is not None else None
    repository.put(SHARE_SETTING, value, updated_by=actor)
    AuditRepository(connection).record(
        actor=actor,
        action=action,
        target="gallery",
        before=_audit(before),
        after={"share_until": value},
    )
    return _share_state(repository.get(SHARE_SETTING))


def _audit(state: ShareState) -> dict[str, Any]:
    until = state.share_until.isoformat() if state.share_until else None
    return {"share_until": until}


def _share_state(row: StoredSetting | None) -> ShareState:
    if row is None:
        return ShareState(open=False, share_until=None, updated_at=None, updated_by=None)
    until = datetime.fromisoformat(row.value) if row.value else None
    return ShareState(
        open=until is not None and until > utcnow(),
        share_until=until,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )
