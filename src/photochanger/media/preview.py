"""Small WebP previews for galleries, made after the booth has its answer."""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Connection

from photochanger.db import Database
from photochanger.jobs.repository import JobRepository
from photochanger.media.keys import preview_key
from photochanger.media.preview_render import lower_priority, render_preview
from photochanger.media.repository import MediaRepository
from photochanger.media.store import MediaStore

MAX_QUEUED = 64
"""Previews waiting beyond this are skipped (logged): under a burst the booth's
answers come first, and a gallery can make a missing preview later."""

log = structlog.get_logger("photochanger.media")


class PreviewMaker:
    """Renders previews in one separate process at idle priority: the rendering
    never takes CPU from an answer the booth is waiting for (measured: in the
    same process it halved ingest throughput), and never holds decoded images
    in the server's memory."""

    def __init__(self, store: MediaStore, database: Database) -> None:
        self._store = store
        self._database = database
        self._pool: ProcessPoolExecutor | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # forkserver: workers start from a small clean process, not a fork
            # of this one with its threads, database connections and models.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["photochanger.media.preview_render"])
            self._pool = ProcessPoolExecutor(1, mp_context=context, initializer=lower_priority)
        return self._pool

    def schedule(self, **job: Any) -> None:
        if len(self._tasks) >= MAX_QUEUED:
            log.warning("preview_skipped", job_id=job.get("job_id"), queued=len(self._tasks))
            return
        task = asyncio.create_task(self.make(**job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, wait_seconds: float = 10.0) -> None:
        """Let scheduled previews finish (tests); cancel what is left."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=wait_seconds)
            for task in pending:
                task.cancel()

    async def close(self) -> None:
        await self.drain()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def make(
        self,
        *,
        job_id: str,
        slot_id: str,
        started_at: datetime,
        result_key: str,
        expires_at: datetime | None,
        data: bytes | None = None,
    ) -> None:
        try:
            source: bytes | str | None = data
            if source is None:
                path: Path | None = self._store.local_path(result_key)
                source = str(path) if path else await self._store.read(result_key)
            loop = asyncio.get_running_loop()
            webp = await loop.run_in_executor(self._executor(), render_preview, source)
            key = preview_key(job_id, started_at)
            size = await self._store.put_bytes(key, webp)

            def record(connection: Connection) -> None:
                MediaRepository(connection).add(
                    kind="preview",
                    key=key,
                    size=size,
                    mime="image/webp",
                    job_id=job_id,
                    slot_id=slot_id,
                    expires_at=expires_at,
                )
                JobRepository(connection).set_preview(job_id, key)

            await self._database.write(record)
        except Exception as exc:
            # A missing preview costs a gallery thumbnail, never the booth's answer.
            log.warning("preview_failed", job_id=job_id, error=type(exc).__name__)
