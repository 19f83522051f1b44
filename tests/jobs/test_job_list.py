"""`GET /api/jobs`: the job log, filtered, newest first, keyset pages (SPEC §6.4)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from photochanger.models.base import utcnow
from support import SessionFactory, assert_error, insert_jobs, job_row

NOW = utcnow().replace(microsecond=0)


def at(minutes_ago: float) -> datetime:
    return NOW - timedelta(minutes=minutes_ago)


async def ids(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get("/api/jobs", params=params)
    assert response.status_code == 200, response.text
    return [job["id"] for job in response.json()["jobs"]]


@pytest.fixture
async def log(factory: SessionFactory) -> None:
    await insert_jobs(
        factory,
        [
            job_row("a", at(50), slot_id="slot-001"),
            job_row("b", at(40), slot_id="slot-002", status="failed"),
            job_row("c", at(30), slot_id="slot-001", status="timeout", source="ui_test"),
            job_row("d", at(20), slot_id="slot-003", status="pending"),
            job_row("e", at(10), slot_id="slot-001"),
            # Same start as "e": the id breaks the tie, descending.
            job_row("f", at(10), slot_id="slot-002"),
        ],
    )


@pytest.mark.usefixtures("log")
async def test_newest_first_and_each_filter(admin_client: httpx.AsyncClient) -> None:
    assert await ids(admin_client) == ["f", "e", "d", "c", "b", "a"]
    assert await ids(admin_client, slot_id="slot-001") == ["e", "c", "a"]
    assert await ids(admin_client, status="failed") == ["b"]
    assert await ids(admin_client, status="pending") == ["d"]
    assert await ids(admin_client, source="ui_test") == ["c"]
    assert await ids(admin_client, source="ingest") == ["f", "e", "d", "b", "a"]
    assert await ids(admin_client, **{"from": at(30).isoformat()}) == ["f", "e", "d", "c"]
    assert await ids(admin_client, to=at(30).isoformat()) == ["b", "a"]
    window = {"from": at(45).isoformat(), "to": at(15).isoformat()}
    assert await ids(admin_client, **window) == ["d", "c", "b"]
    assert await ids(admin_client, slot_id="slot-001", status="done") == ["e", "a"]
    assert await ids(admin_client, slot_id="slot-009") == []


@pytest.mark.usefixtures("log")
async def test_a_summary_has_the_log_columns(admin_client: httpx.AsyncClient) -> None:
    page = (await admin_client.get("/api/jobs", params={"status": "failed"})).json()
    assert page["next_cursor"] is None
    (job,) = page["jobs"]
    assert job["failure_reason"] == "provider_error"
    assert (job["slot_id"], job["source"], job["provider"]) == ("slot-002", "ingest", "local")
    assert job["duration_ms"] == 1000
    assert datetime.fromisoformat(job["started_at"]) == at(40)


async def test_keyset_pages_have_no_duplicates_or_gaps_while_jobs_arrive(
    admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    # Pairs of jobs share a start time, so the id tie-break is on page edges.
    await insert_jobs(factory, [job_row(f"job-{n:02d}", at(60 - n // 2)) for n in range(11)])
    expected = [f"job-{n:02d}" for n in reversed(range(11))]

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await admin_client.get("/api/jobs", params=params)).json()
        seen += [job["id"] for job in page["jobs"]]
        pages += 1
        if pages == 1:
            # A new job between two page requests: newer than every page.
            await insert_jobs(factory, [job_row("job-new", utcnow())])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == expected
    assert pages == 4
    assert await ids(admin_client, limit=1) == ["job-new"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "not-a-cursor"}, "query.cursor"),
        ({"cursor": "WyJ4Il0"}, "query.cursor"),  # base64 of a JSON list, wrong shape
        ({"limit": 0}, "query.limit"),
        ({"limit": 501}, "query.limit"),
        ({"status": "lost"}, "query.status"),
        ({"source": "fax"}, "query.source"),
        ({"outcome": "great"}, "query.outcome"),
        ({"slot_id": "../etc"}, "query.slot_id"),
        ({"from": "yesterday"}, "query.from"),
        ({"to": "2026-11-28T10:00:00"}, "query.to"),  # no time zone
        # pydantic alone reads these as times; the document says `date-time`.
        ({"to": "0.5"}, "query.to"),
        ({"from": "1764324000"}, "query.from"),
        ({"from": "2026-11-28"}, "query.from"),
        ({"from": "2026-11-28 10:00:00Z"}, "query.from"),
    ],
)
async def test_invalid_parameters_are_422_naming_the_field(
    admin_client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    body = assert_error(await admin_client.get("/api/jobs", params=params), 422, "validation_error")
    assert field in [error["field"] for error in body["errors"]]  # type: ignore[union-attr]


async def test_limit_and_its_default(
    admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await insert_jobs(factory, [job_row(f"job-{n:03d}", at(n / 10)) for n in range(60)])
    assert len(await ids(admin_client)) == 50
    assert len(await ids(admin_client, limit=500)) == 60


SAFETY = "provider_error:IMAGE_SAFETY"


@pytest.fixture
async def outcomes(factory: SessionFactory) -> None:
    await insert_jobs(
        factory,
        [
            job_row("ok", at(60), provider="gemini", produced_by="gemini", cost_micros=39_000),
            job_row(
                "safe",
                at(50),
                provider="gemini",
                produced_by="original",
                degraded_reason=SAFETY,
                cost_micros=1_234,
            ),
            job_row("late", at(40), produced_by="original", degraded_reason="timeout"),
            job_row("free", at(35), produced_by="local", cost_micros=0),
            job_row("bad", at(30), status="failed"),
            job_row("slow", at(20), status="timeout"),
            job_row("wait", at(10), status="pending"),
        ],
    )


@pytest.mark.usefixtures("outcomes")
async def test_the_outcome_filter_tells_degraded_from_success(
    admin_client: httpx.AsyncClient,
) -> None:
    assert await ids(admin_client, outcome="success") == ["free", "ok"]
    assert await ids(admin_client, outcome="degraded") == ["late", "safe"]
    assert await ids(admin_client, outcome="failed") == ["bad"]
    assert await ids(admin_client, outcome="timeout") == ["slow"]
    assert await ids(admin_client, outcome="pending") == ["wait"]
    assert await ids(admin_client, status="done") == ["free", "late", "safe", "ok"]
    assert await ids(admin_client, outcome="degraded", status="failed") == []
    assert await ids(admin_client, outcome="success", to=at(45).isoformat()) == ["ok"]


@pytest.mark.usefixtures("outcomes")
async def test_a_summary_has_its_outcome_degraded_reason_and_cost(
    admin_client: httpx.AsyncClient,
) -> None:
    page = (await admin_client.get("/api/jobs")).json()
    jobs = {job["id"]: job for job in page["jobs"]}

    def shown(job_id: str) -> tuple[Any, ...]:
        job = jobs[job_id]
        return job["outcome"], job["degraded_reason"], job["produced_by"], job["cost"]

    assert shown("ok") == ("success", None, "gemini", 0.039)
    assert shown("safe") == ("degraded", SAFETY, "original", 0.001234)
    assert shown("late") == ("degraded", "timeout", "original", None)
    assert shown("free") == ("success", None, "local", 0.0)
    assert shown("bad") == ("failed", None, None, None)
    assert shown("slow")[0] == "timeout"
    assert shown("wait")[0] == "pending"
