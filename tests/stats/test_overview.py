"""`/api/stats/overview`, `/api/stats/slots` and `/api/stats/failures`: every
number checked against a known set of jobs (SPEC §6.6, §10)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from photochanger.models import MediaObject
from photochanger.models.base import utcnow
from support import SessionFactory, assert_error, configure_slot, insert_jobs, job_row

CLOCK = {"now": utcnow()}


@pytest.fixture(autouse=True)
def now() -> datetime:
    """The moment each test's jobs are placed around: taken per test, since the
    windows are measured from the server's own clock when it answers."""
    CLOCK["now"] = utcnow()
    return CLOCK["now"]


def ago(minutes: float) -> datetime:
    return CLOCK["now"] - timedelta(minutes=minutes)


@pytest.fixture
async def jobs(factory: SessionFactory, now: datetime) -> None:
    """slot-001: eight jobs in the last hour of every outcome, two just before it
    and an old interrupted one; slot-002: booth jobs only hours ago, and two admin
    test runs now; slot-003: inactive, one success; the rest: nothing."""
    failed = "failed"
    await insert_jobs(
        factory,
        [
            job_row("s1-done-1", ago(50), duration_ms=1000),
            job_row("s1-done-2", ago(40), duration_ms=2000),
            job_row("s1-done-3", ago(5), duration_ms=500),  # the last success
            job_row("s1-timeout", ago(30), status="timeout", duration_ms=48000),
            job_row("s1-provider-1", ago(20), status=failed, provider="gemini"),
            job_row("s1-provider-2", ago(15), status=failed),
            job_row("s1-internal", ago(10), status=failed, failure_reason="internal_error"),
            job_row("s1-pending", ago(0.5), status="pending"),
            # Just outside a 60-minute window.
            job_row("s1-old-done", ago(61)),
            job_row("s1-old-failed", ago(62), status=failed, failure_reason="provider_unavailable"),
            job_row(
                "s1-interrupted",
                ago(3000),
                status=failed,
                failure_reason="interrupted",
                duration_ms=None,
            ),
            job_row("s2-failed", ago(120), slot_id="slot-002", status=failed),
            job_row("s2-done", ago(180), slot_id="slot-002"),
            job_row("s2-test-1", ago(3), slot_id="slot-002", source="ui_test"),
            job_row(
                "s2-test-2",
                ago(2),
                slot_id="slot-002",
                source="ui_test",
                status="timeout",
                duration_ms=48000,
            ),
            job_row("s3-done", ago(25), slot_id="slot-003"),
        ],
    )
    await configure_slot(factory, "slot-003", active=False, name="Retired")
    async with factory() as session, session.begin():
        await session.execute(
            insert(MediaObject),
            [
                {"id": "m1", "kind": "result", "key": "r/1", "size": 100, "mime": "image/jpeg"},
                {"id": "m2", "kind": "preview", "key": "p/1", "size": 250, "mime": "image/webp"},
                {
                    "id": "m3",
                    "kind": "result",
                    "key": "r/2",
                    "size": 1000,
                    "mime": "image/jpeg",
                    "cleaned_at": CLOCK["now"],
                },
            ],
        )


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def counts(entry: dict[str, Any]) -> tuple[int, ...]:
    names = ("jobs", "successes", "timeouts", "provider_errors", "other_failures", "pending")
    return tuple(entry[name] for name in names)


def instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


@pytest.mark.usefixtures("jobs")
async def test_overview_counts_the_booth_jobs_of_the_window(
    admin_client: httpx.AsyncClient,
) -> None:
    body = await get(admin_client, "/api/stats/overview", window_minutes=60)

    assert (body["source"], body["window_minutes"]) == ("ingest", 60)
    system = body["system"]
    #                         jobs done timeout provider other pending
    assert counts(system) == (9, 4, 1, 2, 1, 1)
    assert system["jobs_total"] == 14
    assert system["storage_used_bytes"] == 350
    slots = {slot["slot_id"]: slot for slot in body["slots"]}
    assert list(slots) == [f"slot-{n:03d}" for n in range(1, 16)]

    one = slots["slot-001"]
    assert counts(one) == (8, 3, 1, 2, 1, 1)
    assert one["active"] is True
    assert instant(one["last_success_at"]) == ago(5) + timedelta(milliseconds=500)
    assert one["last_error_reason"] == "internal_error"
    assert instant(one["last_error_at"]) == ago(10) + timedelta(milliseconds=1000)

    two = slots["slot-002"]
    assert counts(two) == (0, 0, 0, 0, 0, 0)
    assert two["last_error_reason"] == "provider_error"  # any time, not only the window
    assert instant(two["last_success_at"]) == ago(180) + timedelta(milliseconds=1000)

    three = slots["slot-003"]
    assert (three["name"], three["active"]) == ("Retired", False)
    assert counts(three) == (1, 1, 0, 0, 0, 0)
    assert three["last_error_at"] is None
    assert three["last_error_reason"] is None

    nine = slots["slot-009"]
    assert counts(nine) == (0, 0, 0, 0, 0, 0)
    assert (nine["last_success_at"], nine["last_error_reason"]) == (None, None)


@pytest.mark.usefixtures("jobs")
async def test_window_edges_and_sources(admin_client: httpx.AsyncClient) -> None:
    wider = await get(admin_client, "/api/stats/overview", window_minutes=63)
    assert counts(wider["system"]) == (11, 5, 1, 2, 2, 1)
    tests = await get(admin_client, "/api/stats/overview", source="ui_test")
    assert counts(tests["system"]) == (2, 1, 1, 0, 0, 0)
    assert tests["system"]["jobs_total"] == 2
    two = tests["slots"][1]
    assert two["last_error_reason"] == "provider_timeout"
    everything = await get(admin_client, "/api/stats/overview", source="all")
    assert counts(everything["system"]) == (11, 5, 2, 2, 1, 1)
    assert everything["system"]["jobs_total"] == 16
    # The ui_test timeout (2 min ago) is newer than the booth failure (2 h ago).
    assert everything["slots"][1]["last_error_reason"] == "provider_timeout"
    assert instant(everything["slots"][1]["last_success_at"]) == ago(3) + timedelta(seconds=1)


@pytest.mark.usefixtures("jobs")
async def test_slots_lists_active_slots_with_jobs_and_their_rates(
    admin_client: httpx.AsyncClient,
) -> None:
    body = await get(admin_client, "/api/stats/slots", window_minutes=60)
    (one,) = body["slots"]  # slot-003 had a job but is inactive
    assert one["slot_id"] == "slot-001"
    assert counts(one) == (8, 3, 1, 2, 1, 1)
    assert one["success_rate"] == 3 / 8
    assert one["timeout_rate"] == 1 / 8

    everything = await get(admin_client, "/api/stats/slots", window_minutes=60, source="all")
    two = everything["slots"][1]
    assert (two["slot_id"], two["success_rate"], two["timeout_rate"]) == ("slot-002", 0.5, 0.5)

    minute = await get(admin_client, "/api/stats/slots", window_minutes=1)
    (pending,) = minute["slots"]
    assert counts(pending) == (1, 0, 0, 0, 0, 1)
    assert (pending["success_rate"], pending["timeout_rate"]) == (0.0, 0.0)


@pytest.mark.usefixtures("jobs")
async def test_failures_by_slot_provider_and_reason(admin_client: httpx.AsyncClient) -> None:
    body = await get(admin_client, "/api/stats/failures", window_minutes=60)
    groups = [
        (row["slot_id"], row["provider"], row["status"], row["failure_reason"], row["jobs"])
        for row in body["failures"]
    ]
    assert groups == [
        ("slot-001", "gemini", "failed", "provider_error", 1),
        ("slot-001", "local", "failed", "internal_error", 1),
        ("slot-001", "local", "failed", "provider_error", 1),
        ("slot-001", "local", "timeout", "provider_timeout", 1),
    ]
    day = await get(admin_client, "/api/stats/failures", window_minutes=24 * 60)
    local_errors = [
        row
        for row in day["failures"]
        if (row["slot_id"], row["provider"], row["failure_reason"])
        == ("slot-001", "local", "provider_error")
    ]
    assert [row["jobs"] for row in local_errors] == [1]
    assert ("slot-002", "provider_error", 1) in [
        (row["slot_id"], row["failure_reason"], row["jobs"]) for row in day["failures"]
    ]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/stats/overview", {"window_minutes": 0}, "query.window_minutes"),
        ("/api/stats/overview", {"window_minutes": 43201}, "query.window_minutes"),
        ("/api/stats/slots", {"source": "booth"}, "query.source"),
        ("/api/stats/failures", {"window_minutes": "x"}, "query.window_minutes"),
    ],
)
async def test_bad_parameters_are_422(
    admin_client: httpx.AsyncClient, path: str, params: dict[str, Any], field: str
) -> None:
    body = assert_error(await admin_client.get(path, params=params), 422, "validation_error")
    assert field in [error["field"] for error in body["errors"]]  # type: ignore[union-attr]
