"""The sync window as a value (DESIGN.md): created once at the door, passed down."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Arrival:
    """When a request arrived, before we know which window applies to it."""

    wall: datetime
    monotonic: float

    @classmethod
    def now(cls) -> Arrival:
        return cls(wall=datetime.now(UTC), monotonic=time.monotonic())


@dataclass(frozen=True)
class Deadline:
    """`started_at + T_sync`, on the wall clock (for the job row) and the monotonic
    clock (for waiting)."""

    started_at: datetime
    window_seconds: float
    _monotonic_end: float

    @classmethod
    def start(cls, window_seconds: float, arrival: Arrival | None = None) -> Deadline:
        """A window that opened at `arrival` (the request's first byte) or now."""
        arrival = arrival or Arrival.now()
        return cls(
            started_at=arrival.wall,
            window_seconds=window_seconds,
            _monotonic_end=arrival.monotonic + window_seconds,
        )

    @property
    def at(self) -> datetime:
        return self.started_at + timedelta(seconds=self.window_seconds)

    def with_window(self, window_seconds: float) -> Deadline:
        """The same start with another length: the window a fresh read of the
        settings gives a request that started on older ones."""
        return Deadline(
            started_at=self.started_at,
            window_seconds=window_seconds,
            _monotonic_end=self._monotonic_end - self.window_seconds + window_seconds,
        )

    def shortened(self, seconds: float) -> Deadline:
        """The same window, ending `seconds` earlier: a share kept for what follows."""
        return Deadline(
            started_at=self.started_at,
            window_seconds=max(0.0, self.window_seconds - seconds),
            _monotonic_end=self._monotonic_end - seconds,
        )

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self._monotonic_end - time.monotonic())

    def elapsed_ms(self) -> int:
        return int((self.window_seconds - (self._monotonic_end - time.monotonic())) * 1000)
