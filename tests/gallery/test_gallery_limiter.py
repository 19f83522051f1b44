"""The gallery's per-client sliding window, on a clock the test moves."""

from __future__ import annotations

from photochanger.gallery import limiter
from photochanger.gallery.limiter import SlidingWindowLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_gets_its_requests_back_as_the_window_slides() -> None:
    clock = Clock()
    rate = SlidingWindowLimiter(3, 60, clock=clock)
    assert [rate.hit("a") for _ in range(3)] == [None, None, None]
    clock.now += 20
    assert rate.hit("a") == 40  # the first request leaves the window in 40 s
    assert rate.hit("b") is None
    clock.now += 40
    assert [rate.hit("a") for _ in range(4)] == [None, None, None, 60]


def test_memory_stays_bounded_under_many_addresses() -> None:
    clock = Clock()
    rate = SlidingWindowLimiter(30, 60, clock=clock)
    for number in range(limiter.MAX_CLIENTS + 500):
        rate.hit(f"10.0.{number // 256}.{number % 256}")
    assert len(rate._hits) == limiter.MAX_CLIENTS
    # The most recent clients are the ones kept.
    assert (
        f"10.0.{(limiter.MAX_CLIENTS + 499) // 256}.{(limiter.MAX_CLIENTS + 499) % 256}"
        in rate._hits
    )
