"""`local`: CPU-only operations on models that ship inside installed packages."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Self

import structlog

from photochanger.config import Settings
from photochanger.providers.base import (
    CheckRequest,
    JobContext,
    Operation,
    ProviderPermanentError,
    ProviderResult,
    ProviderTransientError,
)
from photochanger.providers.local import calls
from photochanger.providers.local.errors import UndecodableImage
from photochanger.providers.local.settings import (
    BackgroundReplaceSettings,
    EnhanceSettings,
    StylizeSettings,
)
from photochanger.providers.pricing import ModelPrice
from photochanger.workers import forkserver_context

BACKGROUND_ROLE = "background"

log = structlog.get_logger("photochanger.providers.local")

_pools: dict[int, ProcessPoolExecutor] = {}
"""One pool per process and size, shared by every app instance in it (the
server has one; a test process builds many, and loads the model once)."""


class LocalDriver:
    """Runs its CPU work in worker processes (`PHOTOCHANGER_LOCAL_WORKERS`): the
    event loop never waits on the GIL for an image operation, a burst of photos
    cannot start more operations than there are workers, and the image
    libraries and the segmentation model live in the workers, not in the
    server process. Each worker loads the model once, with a warm-up call,
    before the server starts answering."""

    name: str = "local"
    title: str = "Built-in (offline)"
    title_i18n: Mapping[str, str] = {"ru": "Встроенный (офлайн)"}
    operations: Mapping[str, Operation] = {
        "background_replace": Operation(
            "background_replace",
            "Keep the people, replace the background",
            BackgroundReplaceSettings,
            template_roles=(BACKGROUND_ROLE,),
            title_i18n={"ru": "Оставить людей, заменить фон"},
        ),
        "stylize": Operation(
            "stylize",
            "Artistic filter (cartoon, pencil, colour grade)",
            StylizeSettings,
            title_i18n={"ru": "Художественный фильтр (мультфильм, карандаш, цветокоррекция)"},
        ),
        "enhance": Operation(
            "enhance",
            "Auto levels and light sharpening",
            EnhanceSettings,
            title_i18n={"ru": "Автоуровни и лёгкая резкость"},
        ),
    }

    takes_api_key: bool = False
    remote: bool = False
    prices: Mapping[str, ModelPrice] = {}
    default_base_url: str | None = None
    check: CheckRequest | None = None
    """Nothing to check: it needs no key and no network."""

    def __init__(self, workers: int, log_level: str = "INFO") -> None:
        self._workers = workers
        self._log_level = log_level

    @classmethod
    def from_config(cls, config: Settings) -> Self:
        return cls(workers=config.local_workers, log_level=config.log_level)

    async def start(self) -> None:
        pool = self._pool()
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(pool, calls.ready) for _ in range(self._workers))
        )

    async def close(self) -> None:
        # The pool outlives an app instance; its workers end with this process
        # (`workers.end_with_server`), however the process ends.
        return None

    def _pool(self) -> ProcessPoolExecutor:
        pool = _pools.get(self._workers)
        if pool is None:
            pool = ProcessPoolExecutor(
                self._workers,
                mp_context=forkserver_context(),
                initializer=calls.start_worker,
                initargs=(os.getpid(), self._log_level),
            )
            _pools[self._workers] = pool
        return pool

    async def edit(self, ctx: JobContext) -> ProviderResult:
        if not isinstance(
            ctx.settings, BackgroundReplaceSettings | StylizeSettings | EnhanceSettings
        ):
            raise ProviderPermanentError(f"local has no operation {ctx.operation!r}")
        template = None
        if isinstance(ctx.settings, BackgroundReplaceSettings):
            template = next((t.data for t in ctx.templates if t.role == BACKGROUND_ROLE), None)
        # A photo on disk travels as its path: the worker reads it, nothing is copied here.
        image = ctx.image.data if ctx.image.data is not None else ctx.image.path
        assert image is not None
        pool = self._pool()
        try:
            data, mime = await asyncio.get_running_loop().run_in_executor(
                pool, calls.run, ctx.settings, image, template
            )
        except UndecodableImage as exc:
            raise ProviderPermanentError(f"an image could not be decoded: {exc}") from None
        except BrokenProcessPool:
            # A worker died (out of memory, a crash in native code): the next
            # photo gets a fresh pool, this one may be retried.
            log.error("local_worker_died")
            if _pools.get(self._workers) is pool:
                del _pools[self._workers]
                pool.shutdown(wait=False, cancel_futures=True)
            raise ProviderTransientError("the local image worker stopped; try again") from None
        return ProviderResult(mime=mime, data=data)
