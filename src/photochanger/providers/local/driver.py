"""`local`: CPU-only operations on models that ship inside installed packages."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from photochanger.providers.base import (
    JobContext,
    Operation,
    ProviderName,
    ProviderPermanentError,
    ProviderResult,
)
from photochanger.providers.local.imaging import UndecodableImage
from photochanger.providers.local.stylize import StylizeSettings, stylize


class LocalDriver:
    """Runs its CPU work on a small dedicated thread pool so the event loop never
    blocks and a burst of photos cannot start more image jobs than there are cores."""

    name: ProviderName = ProviderName.local
    title: str = "Built-in (offline)"
    operations: Mapping[str, Operation] = {
        "stylize": Operation(
            "stylize", "Artistic filter (cartoon, pencil, colour grade)", StylizeSettings
        ),
    }

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None

    async def start(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="local")

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def edit(self, ctx: JobContext) -> ProviderResult:
        settings = ctx.settings
        assert isinstance(settings, StylizeSettings)
        loop = asyncio.get_running_loop()

        def work() -> tuple[bytes, str]:
            return stylize(ctx.image.read_bytes(), settings)

        try:
            data, mime = await loop.run_in_executor(self._pool, work)
        except UndecodableImage as exc:
            raise ProviderPermanentError(f"the photo could not be decoded: {exc}") from None
        return ProviderResult(mime=mime, data=data)
