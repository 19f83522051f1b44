"""Small WebP previews for galleries, made on a gallery's first request."""

from __future__ import annotations

import asyncio
import contextlib
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError

from photochanger.db import Database
from photochanger.media.object_keys import preview_key
from photochanger.media.preview_render import render_preview, start_worker
from photochanger.media.repository import MediaRepository
from photochanger.media.store import MediaStore
from photochanger.workers import forkserver_context

log = structlog.get_logger("photochanger.media")


class PreviewMaker:
    """Makes a result's preview the first time a gallery asks for it, in one
    separate process at idle priority, and keeps it with a `media_object` row.

    Nothing is rendered on the ingest's path: a busy booth's answers never pay
    for thumbnails nobody looks at (measured: rendering beside every answer cost
    a tenth of the ingest's throughput, and under a burst most were skipped).
    The process never takes CPU from an answer a booth waits for, and decoded
    images never sit in the server's memory."""

    def __init__(self, store: MediaStore, database: Database) -> None:
        self._store = store
        self._database = database
        self._pool: ProcessPoolExecutor | None = None
        self._making: dict[str, asyncio.Future[str]] = {}

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # forkserver: workers start from a small clean process, not a fork
            # of this one with its threads and database connections.
            self._pool = ProcessPoolExecutor(
                1,
                mp_context=forkserver_context(),
                initializer=start_worker,
                initargs=(os.getpid(),),
            )
        return self._pool

    async def _render(self, source: bytes | str) -> bytes:
        """The preview rendered by the worker. A worker that died (out of memory,
        a crash in native code, killed) leaves a broken pool: it is replaced and
        the rendering tried once more, so one death does not break every later
        preview until a restart."""
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            pool = self._executor()
            try:
                return await loop.run_in_executor(pool, render_preview, source)
            except BrokenProcessPool:
                log.error("preview_worker_died", attempt=attempt)
                if self._pool is pool:
                    self._pool = None
                    pool.shutdown(wait=False, cancel_futures=True)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def key_for(self, job: Row[Any]) -> str:
        """The stored preview of a done job with a live result: the one already
        made, or one made now. Requests for the same job share one rendering."""
        if job.preview_key is not None and await self._store.exists(job.preview_key):
            return str(job.preview_key)
        making = self._making.get(job.id)
        if making is None:
            making = asyncio.ensure_future(self._make(job))
            self._making[job.id] = making
            making.add_done_callback(lambda _: self._making.pop(job.id, None))
        # A caller that gives up does not cancel the rendering others wait for.
        return await asyncio.shield(making)

    async def _make(self, job: Row[Any]) -> str:
        path: Path | None = self._store.local_path(job.result_key)
        source: bytes | str = str(path) if path else await self._store.read(job.result_key)
        webp = await self._render(source)
        key = preview_key(job.id, job.started_at)
        size = await self._store.put_bytes(key, webp)

        # Another replica may have recorded the same key first: the file is the same.
        with contextlib.suppress(IntegrityError):
            await self._database.write(
                lambda connection: MediaRepository(connection).add_preview(
                    job_id=job.id,
                    slot_id=job.slot_id,
                    key=key,
                    size=size,
                    expires_at=job.result_expires_at,
                )
            )
        return key
