"""Answering: a job's result stored and recorded, and the answer the booth gets
— its own result, or, for a photo sent again, its original's."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Connection, Row

from photochanger.config import Settings
from photochanger.db import DATABASE_ERRORS, Database
from photochanger.errors import InternalError, ProviderFailed, ServiceUnavailable
from photochanger.ingest.admission import PreparedJob
from photochanger.ingest.closing import final_write_wait
from photochanger.ingest.pipeline import ChainOutcome, job_cost
from photochanger.jobs.repository import JobRepository, final_times
from photochanger.media.downscale import SentImage
from photochanger.media.image_type import SNIFF_BYTES, sniff_image_mime
from photochanger.media.links import result_url
from photochanger.media.metadata import (
    UnreadablePhoto,
    blank_metadata_in_place,
    redrawn_image,
    without_metadata,
)
from photochanger.media.object_keys import result_key
from photochanger.media.repository import MediaRepository
from photochanger.media.store import MediaStore
from photochanger.models.base import utcnow
from photochanger.models.job import JobStatus
from photochanger.multipart import SPOOL_MEMORY_BYTES
from photochanger.providers.base import ProviderResult

log = structlog.get_logger("photochanger.ingest")

DEGRADED_HEADER = "X-PhotoChanger-Degraded"
"""Marks an answer that is not the slot's provider's edit (SPEC §10)."""

ANSWER_IN_MEMORY_BYTES = SPOOL_MEMORY_BYTES
"""A result on disk up to this size is read whole for the answer; larger ones are
streamed in chunks: 500 answers leaving at once must not each hold a whole photo
(bench/README.md: 500 held ingests stay under 300 MB)."""


@dataclass(frozen=True)
class IngestResult:
    job_id: str
    mime: str
    size: int
    result_key: str
    result_url: str
    started_at: datetime
    data: bytes | None
    """The whole result, or None when it is to be streamed from the store."""
    deduplicated: bool = False
    """The answer of an earlier job for the same photo (SPEC §3.5)."""
    produced_by: str | None = None
    degraded_reason: str | None = None
    """Why the answer is not the provider's edit (`X-PhotoChanger-Degraded`)."""


class StoreUnavailable(ServiceUnavailable):
    """The media store failed while the result was put."""


class ResultUnrecorded(ServiceUnavailable):
    """The database failed (or stayed locked past the window) while the job
    was closed `done`; `stored_key` is its result, already in the store."""

    def __init__(self, details: str, *, stored_key: str) -> None:
        super().__init__(details)
        self.stored_key = stored_key


class JobClosedElsewhere(InternalError):
    """Another process closed the job first; `stored_key` is the result this
    one had already put in the store."""

    def __init__(self, details: str, *, stored_key: str) -> None:
        super().__init__(details)
        self.stored_key = stored_key


class ResultStore:
    """Puts a job's result in the media store and closes the job `done`; reads
    an earlier job's result back for a photo sent again."""

    def __init__(self, *, database: Database, store: MediaStore, config: Settings) -> None:
        self._database = database
        self._store = store
        self._base_url = config.public_base_url

    async def keep(
        self, job: PreparedJob, outcome: ChainOutcome, sent: SentImage | None = None
    ) -> IngestResult:
        """Store the result under its real type (sniffed from its bytes), without
        the guest's metadata unless the slot keeps it, then record it — with
        what it cost and what was sent — and close the job `done` in one unit
        of work.

        Bytes this machine did not encode — a remote provider's image, or the
        guest's own photo answered instead — are decoded and encoded again
        (`redrawn`), so what is stored and served is pixels we wrote, never a
        file that is also HTML or script (SECURITY.md). `local` encodes its own
        result; `echo` (a test provider) is kept as it came."""
        record = job.record
        result = outcome.result
        if not job.slot.keep_metadata:
            redraw = redrawn(job, outcome)
            result = await asyncio.to_thread(_without_metadata, result, redraw=redraw)
        data = result.data
        if data is None:
            assert result.path is not None
            data = await asyncio.to_thread(_answer_bytes, result.path)
        mime = await result_mime_from_bytes(result if data is None else replace(result, data=data))
        if mime is None:
            raise ProviderFailed("the provider returned no usable image")
        if mime != result.mime:
            log.warning("provider_mime_corrected", declared=result.mime[:40], actual=mime)
        key = result_key(record.id, record.started_at, mime)
        try:
            if result.path is not None:
                # A spooled file enters the store by link, with no copy.
                size = await self._store.put_file(key, result.path)
            else:
                assert data is not None
                size = await self._store.put_bytes(key, data)
        except OSError:
            log.exception("media_store_failed")
            raise StoreUnavailable("the media store is unavailable") from None
        finished = utcnow()
        expires = finished + timedelta(hours=job.snapshot.runtime.result_ttl_hours)

        def finish(connection: Connection) -> bool:
            MediaRepository(connection).add(
                kind="result",
                key=key,
                size=size,
                mime=mime,
                job_id=record.id,
                slot_id=record.slot_id,
                expires_at=expires,
                created_at=finished,
            )
            return JobRepository(connection).finish(
                record.id,
                JobStatus.done,
                **final_times(record.started_at, finished),
                produced_by=outcome.produced_by,
                degraded_reason=outcome.degraded_reason,
                failure_details=outcome.details[:2000] if outcome.details else None,
                attempts=[attempt.as_record() for attempt in outcome.attempts],
                cost_micros=job_cost(outcome.attempts),
                **sent_columns(sent),
                result_key=key,
                result_mime=mime,
                result_size=size,
                result_expires_at=expires,
            )

        try:
            closed = await self._database.write(finish, lock_timeout=final_write_wait(job.deadline))
        except DATABASE_ERRORS as error:
            log.warning("job_result_unrecorded", error=type(error).__name__)
            raise ResultUnrecorded("the database is unavailable", stored_key=key) from None
        if not closed:
            raise JobClosedElsewhere("the job was closed by another process", stored_key=key)
        return IngestResult(
            job_id=record.id,
            mime=mime,
            size=size,
            result_key=key,
            result_url=result_url(record.id, self._base_url),
            started_at=record.started_at,
            data=data,
            produced_by=outcome.produced_by,
            degraded_reason=outcome.degraded_reason,
        )

    async def of_original(self, original: Row[Any]) -> IngestResult | None:
        """The answer a photo sent again gets: its original's stored result, or
        None when that file is gone."""
        data: bytes | None = None
        try:
            if original.result_size <= ANSWER_IN_MEMORY_BYTES:
                data = await self._store.read(original.result_key)
            elif not await self._store.exists(original.result_key):
                return None
        except FileNotFoundError:
            return None
        return IngestResult(
            job_id=original.id,
            mime=original.result_mime,
            size=original.result_size,
            result_key=original.result_key,
            result_url=result_url(original.id, self._base_url),
            started_at=original.started_at,
            data=data,
            deduplicated=True,
            produced_by=original.produced_by,
            degraded_reason=original.degraded_reason,
        )


def sent_columns(sent: SentImage | None) -> dict[str, int | None]:
    """The job's record of the photo a remote provider got (null: as uploaded)."""
    if sent is None:
        return {}
    return {"sent_size": len(sent.data), "sent_width": sent.width, "sent_height": sent.height}


def redrawn(job: PreparedJob, outcome: ChainOutcome) -> bool:
    """Whether the result's bytes came from outside: a remote provider's, or
    the guest's photo (`original`, which is no step of the chain)."""
    step = next((step for step in job.steps if step.provider == outcome.produced_by), None)
    return step is None or step.driver.remote


def _without_metadata(result: ProviderResult, *, redraw: bool) -> ProviderResult:
    """The result without the guest's metadata (SPEC §10), encoded again from
    its pixels when `redraw`. Otherwise a spooled JPEG (our own temp file: what
    `echo` returned of the upload) is cleaned in place, so it still enters the
    store by link; anything else is cleaned in memory, unchanged when it
    carries nothing to remove."""
    if result.data is not None:
        raw = result.data
    else:
        assert result.path is not None
        if not redraw and blank_metadata_in_place(result.path):
            return result
        raw = result.path.read_bytes()
    try:
        if redraw:
            mime = sniff_image_mime(raw[:SNIFF_BYTES])
            if mime is None:
                raise UnreadablePhoto("not a JPEG, PNG or WebP image")
            return replace(result, data=redrawn_image(raw, mime), path=None, mime=mime)
        cleaned = without_metadata(raw)
    except UnreadablePhoto:
        raise ProviderFailed("the provider returned no usable image") from None
    if cleaned is raw:
        return result
    return replace(result, data=cleaned, path=None)


def _answer_bytes(path: Path) -> bytes | None:
    """A small result file read whole for the answer; None for a large one."""
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size > ANSWER_IN_MEMORY_BYTES:
            return None
        return handle.read()


async def result_mime_from_bytes(result: ProviderResult) -> str | None:
    """The result's real type, from its bytes: the answer's Content-Type must
    match them (SPEC §3.3), whatever the provider claimed."""
    if result.data is not None:
        return sniff_image_mime(result.data[:SNIFF_BYTES])
    if result.path is None:
        return None

    def head(path: Path) -> bytes:
        with open(path, "rb") as handle:
            return handle.read(SNIFF_BYTES)

    return sniff_image_mime(await asyncio.to_thread(head, result.path))
