"""`/api/stats/timeseries`: outcomes per bucket and nearest-rank p50/p95, the
same numbers on SQLite and PostgreSQL (SPEC §6.6).

Nearest rank: the p-th percentile of n durations is the one at rank
ceil(p/100 × n) ascending. Each bucket below is chosen so that the usual
interpolating definition (`percentile_cont`) would give another number."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from photochanger.models.base import utcnow
from support import SessionFactory, assert_error, insert_jobs, job_row

HOUR = timedelta(hours=1)


async def this_hour() -> datetime:
    """The start of the current UTC hour, not about to roll over while a test runs."""
    now = utcnow()
    next_hour = now.replace(minute=0, second=0, microsecond=0) + HOUR
    if next_hour - now < timedelta(seconds=20):
        await asyncio.sleep((next_hour - now).total_seconds() + 0.1)
    return utcnow().replace(minute=0, second=0, microsecond=0)


def durations(prefix: str, start: datetime, values: list[int], **extra: Any) -> list[Any]:
    shuffled = list(enumerate(values))
    random.Random(7).shuffle(shuffled)  # insertion order must not matter
    return [
        job_row(f"{prefix}-{n:02d}", start + timedelta(seconds=n), duration_ms=value, **extra)
        for n, value in shuffled
    ]


@pytest.fixture
async def hour(factory: SessionFactory) -> datetime:
    """Jobs in four hour-buckets before the current hour H; returns H."""
    h = await this_hour()
    twenty = [100 * n for n in range(1, 21)]  # p50 = rank 10, p95 = rank 19
    twenty_one = [10 * n for n in range(1, 22)]  # p50 = rank 11, p95 = rank 20
    rows = [
        *durations("b2", h - 2 * HOUR, twenty),
        job_row("b2-pending", h - 2 * HOUR + timedelta(minutes=30), status="pending"),
        job_row(
            "b2-interrupted",
            h - 2 * HOUR + timedelta(minutes=31),
            status="failed",
            failure_reason="interrupted",
            duration_ms=None,
        ),
        job_row("b2-test", h - 2 * HOUR, source="ui_test", duration_ms=1),
        job_row("b2-other-slot", h - 2 * HOUR + timedelta(minutes=5), slot_id="slot-002"),
        *durations("b1", h - HOUR, twenty_one[:18]),
        *durations(
            "b1-timeout", h - HOUR + timedelta(minutes=1), twenty_one[19:], status="timeout"
        ),
        job_row("b1-provider", h - HOUR + timedelta(minutes=2), status="failed", duration_ms=190),
        job_row("b3", h - 3 * HOUR + timedelta(minutes=59, seconds=59), duration_ms=777),
        *durations("b4", h - 4 * HOUR, [400, 100, 300, 200]),
        # The first bucket of a 24 h window starts at H - 24 h: one just in, one just out.
        job_row("first", h - 24 * HOUR, duration_ms=5),
        job_row("before", h - 24 * HOUR - timedelta(seconds=1), duration_ms=5),
    ]
    await insert_jobs(factory, rows)
    return h


async def series(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/stats/timeseries", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def by_start(body: dict[str, Any]) -> dict[datetime, dict[str, Any]]:
    return {datetime.fromisoformat(bucket["start"]): bucket for bucket in body["buckets"]}


def outcome(bucket: dict[str, Any]) -> tuple[Any, ...]:
    names = ("jobs", "successes", "timeouts", "provider_errors", "other_failures", "pending")
    return (*(bucket[name] for name in names), bucket["p50_ms"], bucket["p95_ms"])


async def test_buckets_count_outcomes_and_nearest_rank_percentiles(
    admin_client: httpx.AsyncClient, hour: datetime
) -> None:
    body = await series(admin_client, window_minutes=24 * 60, bucket_minutes=60)

    assert body["bucket_minutes"] == 60
    assert datetime.fromisoformat(body["since"]) == hour - 24 * HOUR
    buckets = by_start(body)
    assert list(buckets) == [hour - (24 - n) * HOUR for n in range(25)]
    #                                  jobs done to  prov oth pend p50  p95
    assert outcome(buckets[hour - 2 * HOUR]) == (23, 21, 0, 0, 1, 1, 1000, 1900)
    assert outcome(buckets[hour - HOUR]) == (21, 18, 2, 1, 0, 0, 110, 200)
    assert outcome(buckets[hour - 3 * HOUR]) == (1, 1, 0, 0, 0, 0, 777, 777)
    assert outcome(buckets[hour - 4 * HOUR]) == (4, 4, 0, 0, 0, 0, 200, 400)
    assert outcome(buckets[hour - 24 * HOUR]) == (1, 1, 0, 0, 0, 0, 5, 5)
    assert outcome(buckets[hour]) == (0, 0, 0, 0, 0, 0, None, None)
    assert sum(bucket["jobs"] for bucket in body["buckets"]) == 23 + 21 + 1 + 4 + 1


async def test_one_slot_and_one_source(admin_client: httpx.AsyncClient, hour: datetime) -> None:
    slot = by_start(await series(admin_client, window_minutes=180, slot_id="slot-002"))
    assert outcome(slot[hour - 2 * HOUR]) == (1, 1, 0, 0, 0, 0, 1000, 1000)
    assert outcome(slot[hour - HOUR]) == (0, 0, 0, 0, 0, 0, None, None)
    assert len(slot) == 4  # H-3h (holding the window's start) .. H

    tests = by_start(await series(admin_client, window_minutes=180, source="ui_test"))
    assert outcome(tests[hour - 2 * HOUR]) == (1, 1, 0, 0, 0, 0, 1, 1)


async def test_minute_buckets(admin_client: httpx.AsyncClient, hour: datetime) -> None:
    body = await series(admin_client, window_minutes=24 * 60, bucket_minutes=30)
    buckets = by_start(body)
    first_half = buckets[hour - 2 * HOUR]
    second_half = buckets[hour - 2 * HOUR + timedelta(minutes=30)]
    assert outcome(first_half) == (21, 21, 0, 0, 0, 0, 1000, 1900)
    assert (second_half["jobs"], second_half["pending"], second_half["other_failures"]) == (2, 1, 1)
    assert (second_half["p50_ms"], second_half["p95_ms"]) == (None, None)
    assert all(start.utcoffset() == timedelta(0) for start in buckets)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bucket_minutes": 0}, "query.bucket_minutes"),
        ({"window_minutes": 43200, "bucket_minutes": 1}, "query.bucket_minutes"),
        ({"slot_id": "slot-1"}, "query.slot_id"),
    ],
)
async def test_bad_parameters_are_422(
    admin_client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await admin_client.get("/api/stats/timeseries", params=params)
    body = assert_error(response, 422, "validation_error")
    assert field in [error["field"] for error in body["errors"]]  # type: ignore[union-attr]
