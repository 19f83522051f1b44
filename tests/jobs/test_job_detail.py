"""`GET /api/jobs/{job_id}`: one job's whole record (SPEC §6.4)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import httpx

from photochanger.models.base import utcnow
from support import (
    SessionFactory,
    assert_error,
    booth_fields,
    configure_slot,
    echo,
    insert_jobs,
    job_row,
    make_image,
)


async def test_an_ingested_job_shows_its_input_booth_metadata_and_result_links(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-004", **echo())
    photo = make_image(seed=401)
    answer = await client.post(
        "/api/ingest/slot-004",
        data=booth_fields(hash="ab" * 20, profile="gala"),
        files={"fileToUpload": ("IMG.JPG", photo, "image/jpeg")},
    )
    assert answer.status_code == 200, answer.text
    job_id = answer.headers["X-Job-Id"]

    response = await admin_client.get(f"/api/jobs/{job_id}")

    assert response.status_code == 200, response.text
    job = response.json()
    assert job["id"] == job_id
    assert (job["slot_id"], job["source"], job["status"]) == ("slot-004", "ingest", "done")
    assert (job["provider"], job["operation"], job["produced_by"]) == ("echo", "echo", "echo")
    assert job["failure_reason"] is None
    assert job["input_size"] == len(photo)
    assert job["input_mime"] == "image/jpeg"
    assert job["input_sha256"] == hashlib.sha256(photo).hexdigest()
    assert job["input_sha1"] == hashlib.sha1(photo).hexdigest()  # noqa: S324 - booth checksum
    assert (job["client_hash"], job["client_hash_mismatch"]) == ("ab" * 20, True)
    assert job["booth_metadata"]["profile"] == "gala"
    assert "password" not in job["booth_metadata"]
    assert job["result_mime"] == "image/jpeg"
    assert job["result_size"] == len(answer.content)
    assert job["duration_ms"] >= 0
    assert job["started_at"] <= job["finished_at"] < job["deadline_at"]
    assert [attempt["provider"] for attempt in job["attempts"]] == ["echo"]
    assert job["public_result_url"] == answer.headers["X-Result-Url"]
    assert job["public_result_url"] == f"http://booth.test/public/results/{job_id}"


async def test_links_only_while_the_result_is_kept(
    admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    now = utcnow()
    kept = {"result_key": "results/a.jpg", "result_mime": "image/jpeg", "result_size": 10}
    await insert_jobs(
        factory,
        [
            job_row(
                "job-live",
                now,
                **kept,
                result_expires_at=now + timedelta(hours=1),
                preview_key="previews/a.webp",
            ),
            job_row("job-no-preview", now, **kept, result_expires_at=now + timedelta(hours=1)),
            job_row(
                "job-expired",
                now - timedelta(days=8),
                **kept,
                result_expires_at=now - timedelta(seconds=1),
                preview_key="previews/b.webp",
            ),
            job_row("job-failed", now, status="failed", failure_details="model said no"),
        ],
    )

    live = (await admin_client.get("/api/jobs/job-live")).json()
    no_preview = (await admin_client.get("/api/jobs/job-no-preview")).json()
    expired = (await admin_client.get("/api/jobs/job-expired")).json()
    failed = (await admin_client.get("/api/jobs/job-failed")).json()

    base = "http://booth.test/public/results"
    assert live["public_result_url"] == f"{base}/job-live"
    assert live["preview_url"] == f"{base}/job-live/preview.webp"
    assert no_preview["public_result_url"] == f"{base}/job-no-preview"
    # Not made yet: the link makes it on its first request.
    assert no_preview["preview_url"] == f"{base}/job-no-preview/preview.webp"
    assert (expired["public_result_url"], expired["preview_url"]) == (None, None)
    assert expired["result_expires_at"] is not None
    assert (failed["status"], failed["failure_reason"]) == ("failed", "provider_error")
    assert failed["failure_details"] == "model said no"
    assert (failed["public_result_url"], failed["preview_url"]) == (None, None)


async def test_a_degraded_job_shows_its_reason_cost_usage_and_what_was_sent(
    admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    usage = {"model": "gemini-3.1-flash-image", "input_text_tokens": 120, "reported": {}}
    attempt = {"provider": "gemini", "outcome": "error", "usage": usage, "cost_micros": 1_234}
    await insert_jobs(
        factory,
        [
            job_row(
                "job-safety",
                utcnow(),
                provider="gemini",
                produced_by="original",
                degraded_reason="provider_error:IMAGE_SAFETY",
                attempts=[attempt],
                cost_micros=1_234,
                sent_size=412_000,
                sent_width=2309,
                sent_height=1732,
            ),
            job_row("job-plain", utcnow()),
        ],
    )

    job = (await admin_client.get("/api/jobs/job-safety")).json()
    plain = (await admin_client.get("/api/jobs/job-plain")).json()

    assert (job["status"], job["outcome"]) == ("done", "degraded")
    assert (job["degraded_reason"], job["produced_by"]) == (
        "provider_error:IMAGE_SAFETY",
        "original",
    )
    assert job["cost"] == 0.001234
    assert (job["sent_size"], job["sent_width"], job["sent_height"]) == (412_000, 2309, 1732)
    assert job["attempts"] == [attempt]
    assert (plain["outcome"], plain["degraded_reason"], plain["cost"]) == ("success", None, None)
    assert (plain["sent_size"], plain["sent_width"], plain["sent_height"]) == (None, None, None)


async def test_an_unknown_job_is_404(admin_client: httpx.AsyncClient) -> None:
    assert_error(await admin_client.get("/api/jobs/no-such-job"), 404, "job_not_found")
    assert_error(await admin_client.get("/api/jobs/" + "x" * 65), 404, "job_not_found")
