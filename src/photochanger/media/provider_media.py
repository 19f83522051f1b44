"""Provider media: input images published at an unguessable URL for the length of
one job, for providers that fetch their inputs by URL (SPEC §4.5).

The token in the URL is the `media_object` row's id (192 random bits), so a
request finds its file with one primary-key lookup and no token is stored twice.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import structlog
from sqlalchemy import Connection, bindparam, select, update

from photochanger.db import DATABASE_ERRORS, Database
from photochanger.deadline import Deadline
from photochanger.errors import MediaExpired, MediaNotFound, ServiceUnavailable
from photochanger.media.image_type import EXTENSIONS
from photochanger.media.object_keys import provider_media_key
from photochanger.media.repository import MediaRepository
from photochanger.media.store import MediaStore
from photochanger.models import MediaObject
from photochanger.models.base import utcnow

PROVIDER_MEDIA_KIND = "provider_media"
TOKEN_BYTES = 24
"""192 bits; `token_urlsafe(24)` is 32 characters, the width of `media_object.id`."""
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")

log = structlog.get_logger("photochanger.media")

_LIVE_OF_JOB = select(MediaObject.id, MediaObject.key).where(
    MediaObject.job_id == bindparam("b_job_id"),
    MediaObject.kind == PROVIDER_MEDIA_KIND,
    MediaObject.cleaned_at.is_(None),
)
_BY_TOKEN = select(MediaObject.__table__).where(MediaObject.id == bindparam("b_token"))


class ProviderMediaPublisher:
    """Publishes one job's inputs (an `InputPublisher`). Each call stores the
    bytes atomically with a `media_object` row that expires at the job's deadline,
    in its own short transaction, and returns the absolute public URL.

    The pipeline creates one per job and calls `discard()` when the job ends."""

    def __init__(
        self,
        *,
        database: Database,
        store: MediaStore,
        public_base_url: str,
        job_id: str | None,
        slot_id: str | None,
        deadline: Deadline,
    ) -> None:
        self._database = database
        self._published: list[tuple[str, str]] = []
        self._store = store
        self._base_url = public_base_url.rstrip("/")
        self._job_id = job_id
        self._slot_id = slot_id
        self._deadline = deadline

    async def __call__(self, data: bytes, mime: str) -> str:
        if mime not in EXTENSIONS:
            raise ValueError(f"cannot publish {mime!r}: not JPEG, PNG or WebP")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        key = provider_media_key(token, self._deadline.started_at, mime)
        try:
            size = await self._store.put_bytes(key, data)
        except OSError:
            log.exception("provider_media_store_failed", job_id=self._job_id)
            raise ServiceUnavailable("the media store is unavailable") from None
        try:
            await self._database.write(
                lambda connection: MediaRepository(connection).add(
                    media_id=token,
                    kind=PROVIDER_MEDIA_KIND,
                    key=key,
                    size=size,
                    mime=mime,
                    job_id=self._job_id,
                    slot_id=self._slot_id,
                    expires_at=self._deadline.at,
                ),
                lock_timeout=max(0.0, self._deadline.remaining()),
            )
            self._published.append((token, key))
        except BaseException as error:
            # Without its row no request and no cleanup would ever find the file.
            await self._store.delete(key)
            if isinstance(error, DATABASE_ERRORS):
                # Inside the driver's call: our 503, not the provider's failure.
                log.warning("provider_media_unrecorded", error=type(error).__name__)
                raise ServiceUnavailable("the database is unavailable") from None
            raise
        return f"{self._base_url}/public/provider-media/{token}"

    @property
    def published(self) -> bool:
        """Whether there is anything for `discard` to delete."""
        return bool(self._published)

    async def discard(self) -> int:
        """Delete what this publisher published (nothing to do, and no query, when
        the provider never asked): see `discard_provider_media`."""
        published, self._published = self._published, []
        return await _discard(self._database, self._store, published)


async def discard_provider_media(database: Database, store: MediaStore, job_id: str) -> int:
    """Delete every provider-media file of a job and set `cleaned_at` on its rows;
    files already gone are fine. Safe to call twice. Returns the rows cleaned."""
    rows = await database.read(
        lambda connection: connection.execute(_LIVE_OF_JOB, {"b_job_id": job_id}).all()
    )
    return await _discard(database, store, [(media_id, key) for media_id, key in rows])


async def _discard(database: Database, store: MediaStore, rows: list[tuple[str, str]]) -> int:
    cleaned: list[str] = []
    for media_id, key in rows:
        try:
            await store.delete(key)
        except OSError:
            # Left for the cleanup pass: its row stays live until the file is gone.
            log.warning("provider_media_delete_failed", key=key)
            continue
        cleaned.append(media_id)
    if cleaned:
        now = utcnow()

        def mark(connection: Connection) -> None:
            connection.execute(
                update(MediaObject)
                .where(MediaObject.id.in_(cleaned), MediaObject.cleaned_at.is_(None))
                .values(cleaned_at=now)
            )

        try:
            await database.write(mark)
        except DATABASE_ERRORS as error:
            # The files are gone; cleanup marks their rows once they expire.
            log.warning("provider_media_unmarked", error=type(error).__name__)
            return 0
    return len(cleaned)


@dataclass(frozen=True)
class PublishedMedia:
    data: bytes
    mime: str


async def read_provider_media(database: Database, store: MediaStore, token: str) -> PublishedMedia:
    """The bytes behind a token while its job's deadline has not passed.

    `MediaNotFound` for anything that is not a live token's row (other kinds of
    media included); `MediaExpired` after the deadline or once discarded, and the
    file is deleted then if it is still there."""
    if TOKEN_PATTERN.fullmatch(token) is None:
        raise MediaNotFound("no such media")
    now = utcnow()
    row = await database.read(
        lambda connection: connection.execute(_BY_TOKEN, {"b_token": token}).first()
    )
    if row is None or row.kind != PROVIDER_MEDIA_KIND:
        raise MediaNotFound("no such media")
    expired = row.cleaned_at is not None or (row.expires_at is not None and row.expires_at <= now)
    if expired and row.cleaned_at is None:
        await database.write(
            lambda connection: MediaRepository(connection).mark_cleaned(row.key, now)
        )
    key, mime = row.key, row.mime
    if expired:
        await store.delete(key)
        raise MediaExpired("this link has expired")
    try:
        # Whole, not streamed: inputs are at most 20 MB, and a job that ends while
        # a stream is open must not cut the provider's download short.
        data = await store.read(key)
    except FileNotFoundError:
        raise MediaExpired("this media is no longer stored") from None
    return PublishedMedia(data=data, mime=mime)
