"""The public gallery's rate limit: 30 requests a minute per client IP.

Counted in this process's memory, on purpose. SPEC §9 keeps in one process
nothing that must *agree* across replicas; a rate limit need not agree, it
bounds how hard one client can push. With N replicas behind a balancer a client
can get up to N×30 answers a minute, and each replica still spends at most 30 a
minute on it, which is what the limit protects (the data is cached, so an
answer costs one primary-key read). Counting in the database would cost a write
per public request, more than the request it guards, and a shared store would
need a table of its own. A studio that wants one exact cluster-wide limit sets
it at the reverse proxy (`limit_req` in nginx), in front of every replica."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

MAX_CLIENTS = 10_000
"""Clients tracked at once; past this the stalest are forgotten first, so a
flood of addresses cannot grow memory without bound."""


class SlidingWindowLimiter:
    def __init__(
        self,
        limit: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}

    def hit(self, client: str) -> int | None:
        """Count one request; None when allowed, else the seconds to wait."""
        now = self._clock()
        hits = self._hits.pop(client, None) or deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        self._hits[client] = hits  # re-inserted: the dict's order is least recent first
        if len(hits) >= self.limit:
            return max(1, math.ceil(hits[0] + self.window - now))
        hits.append(now)
        if len(self._hits) > MAX_CLIENTS:
            self._forget_stalest()
        return None

    def _forget_stalest(self) -> None:
        while len(self._hits) > MAX_CLIENTS:
            del self._hits[next(iter(self._hits))]
