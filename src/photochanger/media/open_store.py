"""The media store a configuration names (`PHOTOCHANGER_MEDIA_STORE`), for the
app's lifespan and the commands that touch media (cleanup, provider-check)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from photochanger.config import Settings
from photochanger.media.s3_store import open_s3_store
from photochanger.media.store import LocalMediaStore, MediaStore


@asynccontextmanager
async def open_media_store(config: Settings) -> AsyncIterator[MediaStore]:
    """The configured store, ready to use; what it holds open (the S3 client
    and its connections) is closed on exit."""
    if config.media_store == "s3":
        async with open_s3_store(config) as store:
            yield store
        return
    local = LocalMediaStore(config.resolved_media_root)
    local.prepare()
    yield local
