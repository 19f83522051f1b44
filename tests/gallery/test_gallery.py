"""The shared public gallery (SPEC §6.7): open only in the share window, which
every replica sees and a revocation closes at once; rate limited; cached."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import httpx
from fastapi import FastAPI

from photochanger.audit.repository import AuditRepository
from photochanger.db import Database
from photochanger.models.base import utcnow
from support import (
    ADMIN_USERNAME,
    SessionFactory,
    assert_error,
    configure_slot,
    pending_job,
    put_setting,
)

JOB_NUMBERS = itertools.count()


async def add_job(
    factory: SessionFactory,
    slot_id: str = "slot-001",
    *,
    finished_ago: float = 60,
    status: str = "done",
    source: str = "ingest",
    expires_in: float = 3600,
    preview: bool = True,
) -> str:
    """A finished job row as the ingest leaves it, `finished_ago` seconds ago."""
    job_id = f"gallery-job-{next(JOB_NUMBERS):04d}"
    job = pending_job(job_id, started_ago=finished_ago + 1)
    finished = utcnow() - timedelta(seconds=finished_ago)
    job.slot_id, job.status, job.source, job.finished_at = slot_id, status, source, finished
    if status == "done":
        job.result_key = f"results/{job_id}.jpg"
        job.result_mime = "image/jpeg"
        job.result_expires_at = utcnow() + timedelta(seconds=expires_in)
        job.preview_key = f"previews/{job_id}.webp" if preview else None
    async with factory() as session, session.begin():
        session.add(job)
    return job_id


async def share(admin_client: httpx.AsyncClient, **body: int) -> dict[str, object]:
    response = await admin_client.post("/api/gallery/share", json=body or None)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_closed_until_shared_page_and_data_both_say_so(client: httpx.AsyncClient) -> None:
    response = await client.get("/pub/gallery")
    assert_error(response, 403, "gallery_closed")
    assert response.headers["cache-control"] == "no-store"
    page = await client.get("/pubgallery")
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    # The shell tells its script, which says so in the guest's language.
    assert 'data-page="pubgallery" data-state="closed"' in page.text


async def test_the_gallery_shows_the_newest_live_booth_results_of_active_slots(
    admin_client: httpx.AsyncClient, client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    shown = [await add_job(factory, finished_ago=1000 - i) for i in range(12)][-10:][::-1]
    await add_job(factory, finished_ago=1, expires_in=-5)  # expired
    await add_job(factory, finished_ago=1, status="failed")
    await add_job(factory, finished_ago=1, source="ui_test")  # an admin's test photo
    await configure_slot(factory, "slot-002", active=False)
    await add_job(factory, "slot-002")
    third = await add_job(factory, "slot-003", preview=False)
    await configure_slot(factory, "slot-003", name="Beach")

    state = await share(admin_client)
    assert state["open"] is True
    assert state["updated_by"] == ADMIN_USERNAME
    response = await client.get("/pub/gallery")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "public, max-age=30"
    body = response.json()
    assert "updated_by" not in body  # guests do not learn the admins' names
    assert [slot["slot_id"] for slot in body["slots"]] == ["slot-001", "slot-003"]
    first, beach = body["slots"]
    assert [result["job_id"] for result in first["results"]] == shown
    assert first["results"][0]["result_url"] == f"/public/results/{shown[0]}"
    assert first["results"][0]["preview_url"] == f"/public/results/{shown[0]}/preview.webp"
    assert beach["name"] == "Beach"
    assert beach["results"][0]["job_id"] == third
    # Not made yet: the link makes it on its first request.
    assert beach["results"][0]["preview_url"] == f"/public/results/{third}/preview.webp"

    admin = (await admin_client.get("/api/gallery")).json()
    assert admin["share"]["open"] is True
    assert admin["page_url"] == "http://booth.test/pubgallery"
    assert admin["slots"] == body["slots"]
    page = await client.get("/pubgallery")
    assert page.status_code == 200


async def test_a_share_opens_and_a_revocation_closes_every_replica_at_once(
    admin_client: httpx.AsyncClient,
    client: httpx.AsyncClient,
    second_replica: httpx.AsyncClient,
    factory: SessionFactory,
    database: Database,
) -> None:
    await add_job(factory)
    for replica in (client, second_replica):
        assert_error(await replica.get("/pub/gallery"), 403, "gallery_closed")
    await share(admin_client, minutes=5)
    for replica in (client, second_replica):
        assert (await replica.get("/pub/gallery")).status_code == 200  # content now cached

    revoked = await admin_client.delete("/api/gallery/share")
    assert revoked.status_code == 200
    assert revoked.json()["open"] is False
    assert revoked.json()["share_until"] is None
    for replica in (client, second_replica):
        assert_error(await replica.get("/pub/gallery"), 403, "gallery_closed")
        assert (await replica.get("/pubgallery")).status_code == 403
    assert (await admin_client.get("/api/gallery")).json()["share"]["open"] is False

    entries = await database.read(lambda c: AuditRepository(c).for_target("gallery"))
    assert [entry["action"] for entry in entries] == ["gallery.revoke", "gallery.share"]
    assert entries[0]["after"] == {"share_until": None}
    assert entries[0]["actor"] == ADMIN_USERNAME


async def test_the_share_window_lasts_the_minutes_asked_and_ends_by_itself(
    admin_client: httpx.AsyncClient, client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    before = utcnow()
    default = datetime.fromisoformat(str((await share(admin_client))["share_until"]))
    assert timedelta(minutes=15) <= default - before < timedelta(minutes=15, seconds=5)
    longer = datetime.fromisoformat(str((await share(admin_client, minutes=120))["share_until"]))
    assert longer - default > timedelta(minutes=100)
    # A number, as the document says: not text or a boolean read as one.
    for minutes in (0, 121, "15", True):
        response = await admin_client.post("/api/gallery/share", json={"minutes": minutes})
        assert_error(response, 422, "validation_error")

    # Near its end the answer may be cached only until the window closes.
    await put_setting(factory, "gallery_share_until", (utcnow() + timedelta(seconds=8)).isoformat())
    response = await client.get("/pub/gallery")
    assert response.status_code == 200
    assert int(response.headers["cache-control"].rsplit("=", 1)[1]) <= 8
    await put_setting(factory, "gallery_share_until", (utcnow() - timedelta(seconds=1)).isoformat())
    assert_error(await client.get("/pub/gallery"), 403, "gallery_closed")


async def test_the_content_is_cached_for_guests_but_fresh_for_admins(
    admin_client: httpx.AsyncClient, client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    first = await add_job(factory)
    await share(admin_client)
    assert [
        r["job_id"] for r in (await client.get("/pub/gallery")).json()["slots"][0]["results"]
    ] == [first]
    newer = await add_job(factory, finished_ago=1)
    cached = (await client.get("/pub/gallery")).json()["slots"][0]["results"]
    assert [result["job_id"] for result in cached] == [first]
    fresh = (await admin_client.get("/api/gallery")).json()["slots"][0]["results"]
    assert [result["job_id"] for result in fresh] == [newer, first]


async def test_thirty_requests_a_minute_per_client(
    admin_client: httpx.AsyncClient, client: httpx.AsyncClient, app: FastAPI
) -> None:
    await share(admin_client)
    statuses = [(await client.get("/pub/gallery")).status_code for _ in range(30)]
    assert statuses == [200] * 30
    refused = await client.get("/pub/gallery")
    body = assert_error(refused, 429, "rate_limited")
    assert 1 <= int(body["retry_after"]) <= 60  # type: ignore[call-overload]
    assert refused.headers["retry-after"] == str(body["retry_after"])
    # Another guest is not held up by the first one.
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://booth.test") as other:
        assert (await other.get("/pub/gallery")).status_code == 200


async def test_sharing_needs_an_admin(client: httpx.AsyncClient) -> None:
    assert_error(await client.post("/api/gallery/share"), 401, "not_authenticated")
    assert_error(await client.delete("/api/gallery/share"), 401, "not_authenticated")
    assert_error(await client.get("/api/gallery"), 401, "not_authenticated")
