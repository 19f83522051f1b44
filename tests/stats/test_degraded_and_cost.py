"""Degraded answers (SPEC §10: done, but the booth got the guest's own photo or
a free fallback's) are counted apart from successes in every statistics
answer, and the window's estimated cost is summed per slot."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from photochanger.models.base import utcnow
from support import SessionFactory, insert_jobs, job_row, put_setting

SAFETY = "provider_error:IMAGE_SAFETY"
NAMES = (
    "jobs",
    "successes",
    "degraded",
    "timeouts",
    "provider_errors",
    "other_failures",
    "pending",
)


def counts(entry: dict[str, Any]) -> tuple[int, ...]:
    return tuple(entry[name] for name in NAMES)


@pytest.fixture
async def now(factory: SessionFactory) -> datetime:
    """slot-001: two successes, three degraded answers (two safety refusals
    answered with the original, one timeout), one provider error; slot-002: a
    budget-degraded answer by the free fallback, an admin's test run, and an
    old success outside the hour."""
    now = utcnow()

    def ago(minutes: float) -> datetime:
        return now - timedelta(minutes=minutes)

    original = {"produced_by": "original"}
    await insert_jobs(
        factory,
        [
            job_row("ok-1", ago(30), cost_micros=40_000, produced_by="local"),
            job_row("ok-2", ago(20), cost_micros=40_000, produced_by="local"),
            job_row(
                "safety-1",
                ago(15),
                provider="gemini",
                degraded_reason=SAFETY,
                cost_micros=1_000,
                **original,
            ),
            job_row("safety-2", ago(10), provider="gemini", degraded_reason=SAFETY, **original),
            job_row("late", ago(5), degraded_reason="timeout", **original),
            job_row("failed", ago(25), status="failed", cost_micros=2_000),
            job_row(
                "s2-budget",
                ago(12),
                slot_id="slot-002",
                degraded_reason="budget",
                produced_by="local",
                cost_micros=0,
            ),
            job_row("s2-test", ago(3), slot_id="slot-002", source="ui_test", cost_micros=70_000),
            job_row("s2-old", ago(90), slot_id="slot-002", cost_micros=5_000_000),
        ],
    )
    return now


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.usefixtures("now")
async def test_overview_counts_degraded_apart_and_sums_the_cost(
    admin_client: httpx.AsyncClient,
) -> None:
    body = await get(admin_client, "/api/stats/overview", window_minutes=60)

    assert body["currency"] == "USD"
    #                               jobs ok deg to prov oth pend
    assert counts(body["system"]) == (7, 2, 4, 0, 1, 0, 0)
    assert body["system"]["cost"] == 0.083
    slots = {slot["slot_id"]: slot for slot in body["slots"]}
    assert counts(slots["slot-001"]) == (6, 2, 3, 0, 1, 0, 0)
    assert slots["slot-001"]["cost"] == 0.083
    assert counts(slots["slot-002"]) == (1, 0, 1, 0, 0, 0, 0)
    assert slots["slot-002"]["cost"] == 0.0
    assert slots["slot-003"]["cost"] == 0.0

    everything = await get(admin_client, "/api/stats/overview", window_minutes=60, source="all")
    assert counts(everything["system"]) == (8, 3, 4, 0, 1, 0, 0)
    assert everything["system"]["cost"] == 0.153
    wider = await get(admin_client, "/api/stats/overview", window_minutes=120)
    assert wider["system"]["cost"] == 5.083


@pytest.mark.usefixtures("now")
async def test_slot_rates_split_success_and_degraded(admin_client: httpx.AsyncClient) -> None:
    body = await get(admin_client, "/api/stats/slots", window_minutes=60)

    one, two = body["slots"]
    assert counts(one) == (6, 2, 3, 0, 1, 0, 0)
    assert (one["success_rate"], one["degraded_rate"], one["timeout_rate"]) == (2 / 6, 0.5, 0.0)
    assert one["cost"] == 0.083
    assert (two["slot_id"], two["success_rate"], two["degraded_rate"]) == ("slot-002", 0.0, 1.0)
    assert body["currency"] == "USD"


@pytest.mark.usefixtures("now")
async def test_timeseries_buckets_count_degraded(admin_client: httpx.AsyncClient) -> None:
    body = await get(
        admin_client,
        "/api/stats/timeseries",
        window_minutes=60,
        bucket_minutes=60,
        slot_id="slot-001",
    )
    totals = {name: sum(bucket[name] for bucket in body["buckets"]) for name in NAMES}
    assert tuple(totals.values()) == (6, 2, 3, 0, 1, 0, 0)
    assert all(
        bucket["jobs"] == sum(bucket[name] for name in NAMES[1:]) for bucket in body["buckets"]
    )


@pytest.mark.usefixtures("now")
async def test_failures_show_degraded_answers_by_their_reason(
    admin_client: httpx.AsyncClient,
) -> None:
    body = await get(admin_client, "/api/stats/failures", window_minutes=60)
    groups = [
        (row["slot_id"], row["provider"], row["status"], row["failure_reason"], row["jobs"])
        for row in body["failures"]
    ]
    assert groups == [
        ("slot-001", "gemini", "degraded", SAFETY, 2),
        ("slot-001", "local", "failed", "provider_error", 1),
        ("slot-001", "local", "degraded", "timeout", 1),
        ("slot-002", "local", "degraded", "budget", 1),
    ]
    safety = body["failures"][0]
    assert datetime.fromisoformat(safety["last_started_at"]) > utcnow() - timedelta(minutes=11)


@pytest.mark.usefixtures("now")
async def test_costs_are_in_the_saved_price_tables_currency(
    admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await put_setting(factory, "prices", {"currency": "EUR", "models": {}})
    assert (await get(admin_client, "/api/stats/overview"))["currency"] == "EUR"
    assert (await get(admin_client, "/api/stats/slots"))["currency"] == "EUR"
    assert (await get(admin_client, "/api/stats/spend"))["currency"] == "EUR"
