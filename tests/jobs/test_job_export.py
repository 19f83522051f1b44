"""`GET /api/jobs.csv`: the job log as a streamed CSV file (SPEC §6.4)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import httpx

from photochanger.jobs.export import PAGE_ROWS
from photochanger.models.base import utcnow
from support import SessionFactory, assert_error, insert_jobs, job_row


def parse(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


async def test_text_cells_survive_quoting_and_cannot_run_as_formulas(
    admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    tricky = 'provider said: "no", then\nline two, and a comma'
    metadata = {"name": '=HYPERLINK("http://evil")', "profile": "a,b", "user_id": '"42"'}
    await insert_jobs(
        factory,
        [
            job_row(
                "job-1",
                utcnow() - timedelta(minutes=2),
                status="failed",
                failure_details=tricky,
                booth_metadata=metadata,
            ),
            job_row(
                "job-2", utcnow() - timedelta(minutes=1), status="failed", failure_details="=1+2"
            ),
            job_row(
                "job-3",
                utcnow(),
                status="failed",
                failure_details="-2+3",
                failure_reason="@SUM(A1)",
            ),
        ],
    )

    response = await admin_client.get("/api/jobs.csv")

    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="')
    rows = parse(response)
    assert [row["id"] for row in rows] == ["job-3", "job-2", "job-1"]
    first = rows[2]
    assert first["failure_details"] == tricky
    assert json.loads(first["booth_metadata"]) == metadata
    assert first["status"] == "failed"
    assert first["duration_ms"] == "1000"
    assert first["client_hash_mismatch"] == "false"
    assert rows[1]["failure_details"] == "'=1+2"
    assert rows[0]["failure_details"] == "'-2+3"
    assert rows[0]["failure_reason"] == "'@SUM(A1)"
    assert rows[0]["result_size"] == ""


async def test_degraded_reason_cost_and_the_photo_sent(
    admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    now = utcnow()
    await insert_jobs(
        factory,
        [
            job_row(
                "job-degraded",
                now - timedelta(minutes=1),
                produced_by="original",
                degraded_reason="provider_error:IMAGE_SAFETY",
                cost_micros=39_000,
                sent_size=412_000,
                sent_width=2309,
                sent_height=1732,
            ),
            job_row("job-free", now, cost_micros=0),
            job_row("job-unpriced", now - timedelta(minutes=2)),
        ],
    )

    rows = {row["id"]: row for row in parse(await admin_client.get("/api/jobs.csv"))}
    degraded = parse(await admin_client.get("/api/jobs.csv", params={"outcome": "degraded"}))

    row = rows["job-degraded"]
    assert row["degraded_reason"] == "provider_error:IMAGE_SAFETY"
    assert row["produced_by"] == "original"
    assert row["cost"] == "0.039000"
    assert (row["sent_size"], row["sent_width"], row["sent_height"]) == ("412000", "2309", "1732")
    assert rows["job-free"]["cost"] == "0.000000"
    assert rows["job-unpriced"]["cost"] == ""
    assert rows["job-unpriced"]["sent_size"] == ""
    assert [row["id"] for row in degraded] == ["job-degraded"]


async def test_header_only_when_nothing_matches(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.get("/api/jobs.csv", params={"slot_id": "slot-015"})
    lines = list(csv.reader(io.StringIO(response.text, newline="")))
    assert len(lines) == 1
    assert lines[0][:4] == ["id", "slot_id", "source", "status"]
    assert "booth_metadata" in lines[0]
    assert {"degraded_reason", "cost", "sent_size", "sent_width", "sent_height"} <= set(lines[0])
    assert "cost_micros" not in lines[0]
    assert len(lines[0]) == len(set(lines[0]))


async def test_every_row_across_many_pages_once_with_the_filters(
    admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    now = utcnow()
    total = PAGE_ROWS * 2 + 7
    # Ten jobs share each start time, so page edges fall inside a tie.
    rows = [
        job_row(
            f"job-{n:05d}",
            now - timedelta(seconds=n // 10),
            slot_id="slot-002" if n % 2 else "slot-003",
        )
        for n in range(total)
    ]
    await insert_jobs(factory, rows)

    everything = parse(await admin_client.get("/api/jobs.csv"))
    odd = parse(await admin_client.get("/api/jobs.csv", params={"slot_id": "slot-002"}))

    # Newest first; within one start time, ids descending.
    by_id = sorted((f"job-{n:05d}" for n in range(total)), reverse=True)
    expected = sorted(by_id, key=lambda job_id: int(job_id[4:]) // 10)
    assert [row["id"] for row in everything] == expected
    assert len(everything) == total
    assert [row["id"] for row in odd] == [job_id for job_id in expected if int(job_id[4:]) % 2]


async def test_bad_filters_are_422(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.get("/api/jobs.csv", params={"status": "nope"})
    assert_error(response, 422, "validation_error")
