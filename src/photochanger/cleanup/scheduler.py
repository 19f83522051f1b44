"""The server's built-in periodic cleanup (on by default; SPEC §5.3)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger("photochanger.cleanup")


def next_run_delay(interval: float, *, first: bool, fraction: float) -> float:
    """Seconds until the next run, `fraction` in [0, 1). The first run waits
    50–100 % of the interval (at most a minute), so a starting replica serves
    before it cleans and replicas started together do not run in step; later
    runs vary by ±10 %."""
    if first:
        return min(interval, 60.0) * (0.5 + 0.5 * fraction)
    return interval * (0.9 + 0.2 * fraction)


class PeriodicCleanup:
    """Runs `run` every `interval` seconds in the background until `stop()`.
    A failing run is logged and the next one comes as planned."""

    def __init__(
        self, run: Callable[[], Awaitable[object]], interval: float, stop_grace: float = 10.0
    ) -> None:
        self._run = run
        self._interval = interval
        self._stop_grace = stop_grace
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="periodic-cleanup")

    async def stop(self) -> None:
        """Stop at once when idle; a run in progress gets `stop_grace` seconds to
        finish its batch (so claimed files are deleted), then is cancelled."""
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(self._task, self._stop_grace)
        except TimeoutError:
            log.warning("cleanup_cancelled_at_shutdown")
        self._task = None

    async def _loop(self) -> None:
        first = True
        while not self._stopping.is_set():
            delay = next_run_delay(self._interval, first=first, fraction=random.random())
            first = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            if self._stopping.is_set():
                return
            try:
                await self._run()
            except Exception as error:
                log.exception("cleanup_failed", error=type(error).__name__)
