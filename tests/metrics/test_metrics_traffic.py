"""`GET /metrics` after known traffic through the real app (SPEC §8): booth ingests
on the `echo` provider and on the fake Gemini on loopback, refusals, a 504, a
client that hangs up, a cleanup; the numbers scraped are the traffic's."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from fakes import gemini
from fakes.gemini import GeminiFake
from metrics.scraped import Scrape, scrape
from photochanger.cleanup.service import CleanupService
from photochanger.config import Settings
from photochanger.db import Database, create_engine
from photochanger.ingest.service import IngestService
from photochanger.media.store import LocalMediaStore
from photochanger.metrics.service import Metrics
from photochanger.models import Job
from support import (
    SessionFactory,
    booth_fields,
    configure_slot,
    echo,
    make_image,
    put_setting,
    stored_media,
)

INGESTS = "photochanger_ingests_total"
DURATION = "photochanger_ingest_duration_seconds"
CALLS = "photochanger_provider_call_duration_seconds_count"
RETRIES = "photochanger_provider_retries_total"
REAL_SLOTS = {f"slot-{number:03d}" for number in range(1, 16)}


@pytest.fixture
def config(config: Settings, gemini_server: GeminiFake) -> Settings:
    # No periodic cleanup: a run of its own would change the cleanup numbers.
    return config.model_copy(
        update={"provider_base_urls": {"gemini": gemini_server.base_url}, "cleanup_enabled": False}
    )


async def post(
    client: httpx.AsyncClient, slot: str, *, seed: int = 0, password: str | None = None
) -> httpx.Response:
    fields = booth_fields() if password is None else booth_fields(password=password)
    return await client.post(
        f"/api/ingest/{slot}",
        data=fields,
        files={"fileToUpload": ("a.jpg", make_image("JPEG", (320, 240), seed), "image/jpeg")},
        timeout=60,
    )


def answered(
    result: Scrape, slot: str, provider: str, outcome: str, reason: str, code: int
) -> float | None:
    return result.value(
        INGESTS,
        slot=slot,
        provider=provider,
        outcome=outcome,
        failure_reason=reason,
        code=str(code),
    )


async def test_the_scrape_counts_each_ingest_by_slot_provider_and_outcome(
    client: httpx.AsyncClient,
    factory: SessionFactory,
    gemini_fake: GeminiFake,
    config: Settings,
) -> None:
    await put_setting(factory, "gemini_api_key", gemini.API_KEY)
    await configure_slot(factory, "slot-001", **echo(delay_seconds=0.2))
    gemini_slot = {"provider": "gemini", "operation": "edit", "settings": {"prompt": "A beach."}}
    await configure_slot(factory, "slot-002", **gemini_slot)
    await configure_slot(factory, "slot-003", **gemini_slot, on_failure="original")
    job_ids = []

    for seed in (1, 2):
        response = await post(client, "slot-001", seed=seed)
        assert response.status_code == 200
        job_ids.append(response.headers["x-job-id"])
    assert (await post(client, "slot-001", seed=3, password="wrong")).status_code == 401
    assert (await post(client, "slot-999")).status_code == 404
    assert (await post(client, "garbage-" + job_ids[0])).status_code == 404
    gemini_fake.queue(gemini.error(503, "UNAVAILABLE", "The model is overloaded."))
    response = await post(client, "slot-002", seed=4)  # retried once, then answered
    assert response.status_code == 200
    job_ids.append(response.headers["x-job-id"])
    gemini_fake.queue(gemini.no_image("IMAGE_SAFETY", "The image may show a minor."))
    response = await post(client, "slot-003", seed=5)  # the guest's own photo
    assert response.status_code == 200
    assert response.headers["x-photochanger-degraded"].startswith("provider_error")
    job_ids.append(response.headers["x-job-id"])

    result = await scrape(client)

    assert answered(result, "slot-001", "echo", "done", "", 200) == 2
    assert answered(result, "slot-001", "echo", "rejected", "invalid_password", 401) == 1
    assert answered(result, "unknown", "unknown", "rejected", "slot_not_found", 404) == 2
    assert answered(result, "slot-002", "gemini", "done", "", 200) == 1
    assert answered(result, "slot-003", "gemini", "degraded", "", 200) == 1
    assert result.total(INGESTS) == 7
    # A slot's first ingest creates its 5xx series at 0, so rate() sees the first 504.
    assert answered(result, "slot-001", "echo", "timeout", "provider_timeout", 504) == 0
    assert answered(result, "slot-001", "echo", "failed", "provider_error", 502) == 0
    degraded = {"slot": "slot-003", "provider": "gemini", "reason": "provider_error"}
    assert result.value("photochanger_ingest_degraded_total", **degraded) == 1
    assert result.total("photochanger_ingest_degraded_total") == 1

    echo_done = {"slot": "slot-001", "provider": "echo", "outcome": "done"}
    assert result.value(DURATION + "_count", **echo_done) == 2
    assert result.value(DURATION + "_sum", **echo_done) >= 0.4  # two 0.2 s echoes
    assert result.value(DURATION + "_bucket", **echo_done, le="0.05") == 0
    assert result.value(DURATION + "_bucket", **echo_done, le="+Inf") == 2
    assert result.value(DURATION + "_count", slot="unknown", provider="unknown", outcome="rejected")

    assert result.value(CALLS, provider="echo", outcome="ok") == 2
    assert result.value(CALLS, provider="gemini", outcome="transient") == 1
    assert result.value(CALLS, provider="gemini", outcome="ok") == 1
    assert result.value(CALLS, provider="gemini", outcome="permanent") == 1
    assert result.value(RETRIES, provider="gemini", outcome="transient") == 1
    assert result.total(RETRIES) == 1  # a safety refusal is not retried
    assert result.value("photochanger_ingests_in_flight", slot="slot-001") == 0

    # Bounded labels: real slot ids and `unknown`; never a job id or a made-up path.
    slots = {labels["slot"] for labels in result.labels() if "slot" in labels}
    assert slots <= REAL_SLOTS | {"unknown"}
    assert {"slot-001", "slot-002", "slot-003", "unknown"} <= slots
    values = {value for labels in result.labels() for value in labels.values()}
    assert not any(job_id in value for job_id in job_ids for value in values)
    assert not any("999" in value or "garbage" in value for value in values)
    assert "_created" not in result.text

    # The media store, from the database: one result per answered job, the same
    # bytes as the files on the disk.
    results_dir = config.resolved_media_root / "results"
    files = [path for path in results_dir.rglob("*") if path.is_file()]
    assert len(files) == 4
    assert result.value("photochanger_media_objects", kind="result") == 4
    assert result.value("photochanger_media_bytes", kind="result") == sum(
        path.stat().st_size for path in files
    )
    assert result.value("photochanger_media_objects", kind="template") == 0
    total = result.value("photochanger_media_disk_total_bytes")
    free = result.value("photochanger_media_disk_free_bytes")
    assert total is not None
    assert free is not None
    assert 0 < free <= total

    # The usual process metrics, and the release.
    assert result.value("process_resident_memory_bytes")
    assert result.value("process_start_time_seconds")
    assert result.value("python_gc_objects_collected_total", generation="0") is not None
    assert result.value("photochanger_build_info", version="0.1.0") == 1


async def wait_for_pending(factory: SessionFactory) -> None:
    for _ in range(1000):
        async with factory() as session:  # a new transaction each time: it sees new rows
            if await session.scalar(select(Job.id).where(Job.status == "pending")):
                return
        await asyncio.sleep(0.02)
    raise AssertionError("no job became pending")


async def test_in_flight_refused_and_hung_up_ingests_are_counted(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    """One ingest held by a slow provider is in flight; a second on the same slot
    is refused by the limit of one; the first's client then hangs up."""
    await configure_slot(factory, "slot-004", **echo(delay_seconds=600))
    await put_setting(factory, "slot_concurrency_limit", 1)
    held = asyncio.create_task(post(client, "slot-004", seed=1))
    await wait_for_pending(factory)

    while_held = await scrape(client)
    assert while_held.value("photochanger_ingests_in_flight", slot="slot-004") == 1
    refused = await post(client, "slot-004", seed=2)
    assert refused.status_code == 429
    held.cancel()
    with pytest.raises(asyncio.CancelledError):
        await held

    after = await scrape(client)
    assert after.value("photochanger_ingests_in_flight", slot="slot-004") == 0
    assert (
        after.value(
            "photochanger_admissions_refused_total",
            slot="slot-004",
            provider="echo",
            limit="slot",
        )
        == 1
    )
    assert answered(after, "slot-004", "echo", "rejected", "rate_limited", 429) == 1
    assert answered(after, "slot-004", "echo", "disconnected", "client_disconnected", 499) == 1
    assert after.total(INGESTS) == 2
    assert after.total(CALLS) == 0  # the held call never ended


async def test_a_timeout_is_a_504_with_its_whole_window(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await put_setting(factory, "sync_response_seconds", 10)
    await configure_slot(factory, "slot-005", **echo(delay_seconds=30))
    assert (await post(client, "slot-005")).status_code == 504

    result = await scrape(client)
    assert answered(result, "slot-005", "echo", "timeout", "provider_timeout", 504) == 1
    timeout = {"slot": "slot-005", "provider": "echo", "outcome": "timeout"}
    assert result.value(DURATION + "_count", **timeout) == 1
    assert result.value(DURATION + "_sum", **timeout) >= 9.9
    assert result.value(DURATION + "_bucket", **timeout, le="8.0") == 0
    assert result.value(CALLS, provider="echo", outcome="timeout") == 1


async def test_an_admins_test_run_calls_the_provider_but_is_no_booth_ingest(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-006", **echo())
    response = await admin_client.post(
        "/api/slots/slot-006/test-run",
        files={"test_image": ("t.jpg", make_image("JPEG", (160, 120)), "image/jpeg")},
    )
    assert response.status_code == 200, response.text

    result = await scrape(client)
    assert result.total(INGESTS) == 0
    assert result.value(CALLS, provider="echo", outcome="ok") == 1


async def test_cleanup_runs_and_what_they_removed(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    database: Database,
    app: FastAPI,
) -> None:
    store: LocalMediaStore = app.state.services.store
    for size in (1000, 234):
        await stored_media(database, store, kind="result", size=size)
    await stored_media(database, store, kind="preview", size=50)
    await stored_media(database, store, kind="preview", size=70, expires_in=3600)
    await stored_media(database, store, kind="result", slot_id="slot-002", size=9)

    before = await scrape(client)
    assert before.value("photochanger_cleanup_enabled") == 0
    assert before.value("photochanger_cleanup_runs_total", outcome="ok") == 0
    assert before.value("photochanger_media_objects", kind="result") == 3
    assert before.value("photochanger_media_bytes", kind="preview") == 120
    assert before.value("photochanger_cleanup_last_success_timestamp_seconds") is None

    # One slot's run removes its file but is not "the last cleanup".
    assert (await admin_client.post("/api/slots/slot-002/cleanup")).status_code == 200
    one_slot = await scrape(client)
    assert one_slot.value("photochanger_cleanup_runs_total", outcome="ok") == 1
    assert one_slot.value("photochanger_cleanup_removed_bytes_total", kind="result") == 9
    assert one_slot.value("photochanger_cleanup_last_success_timestamp_seconds") is None

    started = time.time()
    assert (await admin_client.post("/api/cleanup")).status_code == 200
    after = await scrape(client)
    assert after.value("photochanger_cleanup_runs_total", outcome="ok") == 2
    assert after.value("photochanger_cleanup_runs_total", outcome="failed") == 0
    assert after.value("photochanger_cleanup_runs_total", outcome="incomplete") == 0
    for kind in ("result", "preview", "provider_media"):
        assert after.value("photochanger_cleanup_failed_objects_total", kind=kind) == 0
    assert after.value("photochanger_cleanup_removed_objects_total", kind="result") == 3
    assert after.value("photochanger_cleanup_removed_bytes_total", kind="result") == 1243
    assert after.value("photochanger_cleanup_removed_bytes_total", kind="preview") == 50
    assert after.value("photochanger_cleanup_removed_objects_total", kind="provider_media") == 0
    last = after.value("photochanger_cleanup_last_success_timestamp_seconds")
    assert last is not None
    assert started <= last <= time.time()
    # What is left in the store: the preview that has not expired.
    assert after.value("photochanger_media_objects", kind="result") == 0
    assert after.value("photochanger_media_objects", kind="preview") == 1
    assert after.value("photochanger_media_bytes", kind="preview") == 70


async def test_a_failed_cleanup_run_is_counted(app: FastAPI, tmp_path: Path) -> None:
    """A run whose database is gone fails: counted as such, no last success."""
    metrics = Metrics()
    dead = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/none.db"))
    try:
        with pytest.raises(DBAPIError):
            await CleanupService(dead, app.state.services.store, metrics=metrics).run()
    finally:
        await dead.dispose()
    runs = "photochanger_cleanup_runs_total"
    assert metrics.registry.get_sample_value(runs, {"outcome": "failed"}) == 1
    assert metrics.registry.get_sample_value(runs, {"outcome": "ok"}) == 0
    assert metrics.cleanup_last_success is None


async def test_a_database_that_is_down_is_a_counted_503(
    client: httpx.AsyncClient, app: FastAPI, tmp_path: Path
) -> None:
    """The ingest cannot even read its slot: 503, counted under `unknown`."""
    services = app.state.services
    dead = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/none.db"))
    live_ingest = services.ingest
    services.ingest = IngestService(
        database=dead,
        store=services.store,
        registry=services.registry,
        config=services.config,
        metrics=services.metrics,
    )
    try:
        assert (await post(client, "slot-001")).status_code == 503
    finally:
        services.ingest = live_ingest
        await dead.dispose()

    result = await scrape(client)
    assert answered(result, "unknown", "unknown", "failed", "provider_unavailable", 503) == 1
    assert result.value("photochanger_ingests_in_flight", slot="unknown") is None


async def test_two_apps_in_one_process_keep_their_own_numbers(
    client: httpx.AsyncClient, second_replica: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    assert (await post(client, "slot-001")).status_code == 200

    mine, other = await scrape(client), await scrape(second_replica)
    assert answered(mine, "slot-001", "echo", "done", "", 200) == 1
    assert other.total(INGESTS) == 0
    # What the media store holds is read from the shared database: the same on both.
    assert other.value("photochanger_media_objects", kind="result") == 1
    assert mine.value("photochanger_media_bytes", kind="result") == other.value(
        "photochanger_media_bytes", kind="result"
    )
