"""Small WebP previews for galleries, made after the booth has its answer."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog
from PIL import Image, ImageOps

from photochanger.db import SessionFactory
from photochanger.media.keys import preview_key
from photochanger.media.repository import MediaRepository
from photochanger.media.store import MediaStore
from photochanger.models import Job

PREVIEW_EDGE = 512
log = structlog.get_logger("photochanger.media")


def render_preview(source: bytes | Path) -> bytes:
    with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
        # draft() lets the JPEG decoder scale by 1/2…1/8 itself: a 24 MP photo
        # becomes a preview without ever being decoded at full size.
        image.draft("RGB", (PREVIEW_EDGE, PREVIEW_EDGE))
        oriented = ImageOps.exif_transpose(image).convert("RGB")
        oriented.thumbnail((PREVIEW_EDGE, PREVIEW_EDGE), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        oriented.save(out, "WEBP", quality=80, method=2)
        return out.getvalue()


class PreviewMaker:
    """Makes previews on its own tasks, one or two at a time: the booth's answer
    never waits for one (not even the next request on a keep-alive connection),
    and a burst of large uploads cannot stack up decoded images in memory."""

    def __init__(self, store: MediaStore, factory: SessionFactory, concurrency: int = 1) -> None:
        self._store = store
        self._factory = factory
        self._gate = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()

    def schedule(self, **job: Any) -> None:
        task = asyncio.create_task(self.make(**job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, wait_seconds: float = 10.0) -> None:
        """Let scheduled previews finish (shutdown, tests); cancel what is left."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=wait_seconds)
            for task in pending:
                task.cancel()

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
            async with self._gate:
                source: bytes | Path | None = data or self._store.local_path(result_key)
                if source is None:
                    source = await self._store.read(result_key)
                webp = await asyncio.to_thread(render_preview, source)
                key = preview_key(job_id, started_at)
                size = await self._store.put_bytes(key, webp)
            async with self._factory() as session, session.begin():
                MediaRepository(session).add(
                    kind="preview",
                    key=key,
                    size=size,
                    mime="image/webp",
                    job_id=job_id,
                    slot_id=slot_id,
                    expires_at=expires_at,
                )
                job = await session.get(Job, job_id)
                if job is not None:
                    job.preview_key = key
        except Exception as exc:
            # A missing preview costs a gallery thumbnail, never the booth's answer.
            log.warning("preview_failed", job_id=job_id, error=type(exc).__name__)
