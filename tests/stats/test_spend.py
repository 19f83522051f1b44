"""`/api/stats/spend` and `/api/stats/spend.csv`: the estimated cost per slot
and UTC day, exact to the micro, on SQLite and PostgreSQL (SPEC §10)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from support import SessionFactory, assert_error, configure_slot, insert_jobs, job_row, utc_today

DAY = timedelta(days=1)


@pytest.fixture
async def today(factory: SessionFactory) -> datetime:
    """Priced jobs around today's midnight (UTC); returns that midnight.

    slot-001 today: 1.234567 + 0.01 from booths, 0.5 from an admin's test run,
    and a job of an unpriced model (no cost); yesterday's last microsecond: 2.0.
    slot-002 today: a free local job (cost 0). slot-003: 9.999999 seven days ago,
    the day before a 7-day period starts."""
    midnight = await utc_today()
    await configure_slot(factory, "slot-001", daily_budget=1.5, name="Beach")
    await configure_slot(factory, "slot-002", daily_budget=0.5)
    await configure_slot(factory, "slot-003", name="Studio")
    await insert_jobs(
        factory,
        [
            job_row("t-1", midnight, cost_micros=1_234_567),
            job_row("t-2", midnight + timedelta(seconds=1), cost_micros=10_000),
            job_row(
                "t-test", midnight + timedelta(seconds=2), source="ui_test", cost_micros=500_000
            ),
            job_row("t-unpriced", midnight + timedelta(seconds=3), cost_micros=None),
            job_row("y-1", midnight - timedelta(microseconds=1), cost_micros=2_000_000),
            job_row("free", midnight, slot_id="slot-002", cost_micros=0),
            job_row("old", midnight - 7 * DAY, slot_id="slot-003", cost_micros=9_999_999),
        ],
    )
    return midnight


async def spend(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/stats/spend", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def day_slots(day: dict[str, Any]) -> list[tuple[str, float, int]]:
    return [(entry["slot_id"], entry["cost"], entry["jobs"]) for entry in day["slots"]]


async def test_spend_per_slot_and_day(admin_client: httpx.AsyncClient, today: datetime) -> None:
    body = await spend(admin_client)

    assert (body["currency"], body["days"], body["source"]) == ("USD", 7, "all")
    assert date.fromisoformat(body["since"]) == today.date() - timedelta(days=6)
    dates = [date.fromisoformat(day["date"]) for day in body["daily"]]
    assert dates == [today.date() - timedelta(days=6 - n) for n in range(7)]
    assert [day["total"] for day in body["daily"][:5]] == [0.0] * 5
    assert [day["slots"] for day in body["daily"][:5]] == [[]] * 5

    yesterday, now = body["daily"][5], body["daily"][6]
    assert (yesterday["total"], yesterday["jobs"]) == (2.0, 1)
    assert day_slots(yesterday) == [("slot-001", 2.0, 1)]
    assert (now["total"], now["jobs"]) == (1.744567, 4)
    assert day_slots(now) == [("slot-001", 1.744567, 3), ("slot-002", 0.0, 1)]
    assert body["total"] == 3.744567

    slots = {slot["slot_id"]: slot for slot in body["slots"]}
    assert list(slots) == [f"slot-{n:03d}" for n in range(1, 16)]
    one = slots["slot-001"]
    assert (one["name"], one["cost"], one["jobs"], one["today"]) == ("Beach", 3.744567, 4, 1.744567)
    assert (one["daily_budget"], one["budget_reached"]) == (1.5, True)
    two = slots["slot-002"]
    assert (two["cost"], two["jobs"], two["today"], two["budget_reached"]) == (0.0, 1, 0.0, False)
    three = slots["slot-003"]
    assert (three["cost"], three["jobs"], three["daily_budget"]) == (0.0, 0, None)
    assert three["budget_reached"] is False


async def test_days_and_source(admin_client: httpx.AsyncClient, today: datetime) -> None:
    eight = await spend(admin_client, days=8)
    assert eight["daily"][0]["date"] == (today.date() - timedelta(days=7)).isoformat()
    assert day_slots(eight["daily"][0]) == [("slot-003", 9.999999, 1)]
    assert eight["total"] == 13.744566

    one_day = await spend(admin_client, days=1)
    assert one_day["since"] == today.date().isoformat()
    assert [day["date"] for day in one_day["daily"]] == [today.date().isoformat()]
    assert one_day["total"] == 1.744567

    booths = await spend(admin_client, source="ingest")
    assert day_slots(booths["daily"][6]) == [("slot-001", 1.244567, 2), ("slot-002", 0.0, 1)]
    assert booths["total"] == 3.244567
    one = booths["slots"][0]
    # The budget counts test runs too, whatever the source asked for.
    assert (one["cost"], one["today"], one["budget_reached"]) == (3.244567, 1.744567, True)

    tests = await spend(admin_client, source="ui_test")
    assert tests["total"] == 0.5
    assert [day["jobs"] for day in tests["daily"]] == [0, 0, 0, 0, 0, 0, 1]


async def test_spend_csv(
    admin_client: httpx.AsyncClient, factory: SessionFactory, today: datetime
) -> None:
    await configure_slot(factory, "slot-002", name="=HYPERLINK(1)")

    response = await admin_client.get("/api/stats/spend.csv", params={"days": 8})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    first, last = today.date() - timedelta(days=7), today.date()
    assert response.headers["content-disposition"] == (
        f'attachment; filename="photochanger-spend-{first}-{last}.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.text, newline="")))
    yesterday = (today.date() - timedelta(days=1)).isoformat()
    assert rows == [
        ["date", "slot_id", "slot_name", "jobs", "cost", "currency"],
        [first.isoformat(), "slot-003", "Studio", "1", "9.999999", "USD"],
        [yesterday, "slot-001", "Beach", "1", "2.000000", "USD"],
        [last.isoformat(), "slot-001", "Beach", "3", "1.744567", "USD"],
        [last.isoformat(), "slot-002", "'=HYPERLINK(1)", "1", "0.000000", "USD"],
    ]

    booths = await admin_client.get("/api/stats/spend.csv", params={"source": "ui_test"})
    assert booths.text.splitlines()[1:] == [f"{last},slot-001,Beach,1,0.500000,USD"]


async def test_no_jobs_no_rows(admin_client: httpx.AsyncClient) -> None:
    body = await spend(admin_client, days=3)
    assert (body["total"], len(body["daily"]), len(body["slots"])) == (0.0, 3, 15)
    response = await admin_client.get("/api/stats/spend.csv")
    assert response.text.splitlines() == ["date,slot_id,slot_name,jobs,cost,currency"]


@pytest.mark.parametrize("path", ["/api/stats/spend", "/api/stats/spend.csv"])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"days": 0}, "query.days"),
        ({"days": 93}, "query.days"),
        ({"source": "booth"}, "query.source"),
    ],
)
async def test_bad_parameters_are_422(
    admin_client: httpx.AsyncClient, path: str, params: dict[str, Any], field: str
) -> None:
    body = assert_error(await admin_client.get(path, params=params), 422, "validation_error")
    assert field in [error["field"] for error in body["errors"]]  # type: ignore[union-attr]
