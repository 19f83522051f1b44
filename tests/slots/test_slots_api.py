"""The slots API (SPEC §6.2): list, detail, save with validation, versions and
audit, and that the next ingest runs what was saved."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from photochanger.models import AuditEntry, Job, Slot
from photochanger.models.base import utcnow
from support import ADMIN_USERNAME, SessionFactory, assert_error, booth_fields, echo, make_image

PROMPT = "Put the guests on a sunny beach; keep faces and clothes exactly."


async def ingest(client: httpx.AsyncClient, seed: int, slot: str = "slot-001") -> httpx.Response:
    return await client.post(
        f"/api/ingest/{slot}",
        data=booth_fields(),
        files={
            "fileToUpload": ("IMG.jpg", make_image("JPEG", (320, 240), seed=seed), "image/jpeg")
        },
        timeout=60,
    )


async def save(
    admin: httpx.AsyncClient, body: dict[str, Any], slot: str = "slot-001"
) -> httpx.Response:
    return await admin.put(f"/api/slots/{slot}", json=body)


NULL_TYPE = json.dumps({"type": "null"})


def fields_of(response: httpx.Response) -> dict[str, str]:
    body = assert_error(response, 422, "validation_error")
    errors = body["errors"]
    assert isinstance(errors, list)
    return {error["field"]: error["message"] for error in errors}


async def test_the_list_has_all_15_slots_with_ingest_url_and_last_job(
    admin_client: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    await save(admin_client, echo())
    assert (await ingest(client, seed=101)).status_code == 200
    response = await admin_client.get("/api/slots")
    assert response.status_code == 200
    slots = response.json()["slots"]
    assert [slot["id"] for slot in slots] == [f"slot-{n:03d}" for n in range(1, 16)]
    first, second = slots[0], slots[1]
    assert first["ingest_url"] == "http://booth.test/api/ingest/slot-001"
    assert (first["provider"], first["operation"], first["active"]) == ("echo", "echo", True)
    assert first["version"] == 2
    assert first["updated_by"] == ADMIN_USERNAME
    assert first["last_job_at"].endswith(("Z", "+00:00"))  # UTC, like updated_at
    assert second["last_job_at"] is None
    assert {"name", "updated_at"} <= set(first)


async def test_the_detail_shows_config_and_recent_unexpired_results(
    admin_client: httpx.AsyncClient, client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await save(admin_client, echo())
    jobs = [(await ingest(client, seed=200 + n)).headers["x-job-id"] for n in range(3)]
    async with factory() as session, session.begin():
        await session.execute(
            update(Job).where(Job.id == jobs[0]).values(result_expires_at=utcnow() - timedelta(1))
        )
    response = await admin_client.get("/api/slots/slot-001")
    assert response.status_code == 200
    slot = response.json()
    assert slot["id"] == "slot-001"
    assert (slot["provider"], slot["operation"]) == ("echo", "echo")
    assert slot["settings"] == {"delay_seconds": 0.0, "fail_with": None, "fail_kind": "permanent"}
    assert slot["fallback"] is None
    assert slot["size_limit_mb"] == 20
    assert slot["template_media"] == []
    recent = slot["recent_results"]
    assert [result["job_id"] for result in recent] == [jobs[2], jobs[1]]  # newest first
    first = recent[0]
    assert first["public_url"] == f"http://booth.test/public/results/{jobs[2]}"
    assert first["preview_url"] == f"http://booth.test/public/results/{jobs[2]}/preview.webp"
    assert (first["status"], first["mime"], first["source"]) == ("done", "image/jpeg", "ingest")
    download = await client.get(first["public_url"].removeprefix("http://booth.test"))
    assert download.status_code == 200


async def test_unknown_slots_are_404(admin_client: httpx.AsyncClient) -> None:
    for path in ("/api/slots/slot-016", "/api/slots/slot-1", "/api/slots/SLOT-001"):
        assert_error(await admin_client.get(path), 404, "slot_not_found")
    assert_error(await save(admin_client, echo(), "slot-099"), 404, "slot_not_found")
    assert_error(await admin_client.get("/api/slots/slot-099/audit"), 404, "slot_not_found")


async def test_a_save_bumps_the_version_and_records_who_and_an_audit_entry(
    admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    before = (await admin_client.get("/api/slots/slot-003")).json()
    body = {
        "name": "Beach",
        **echo(delay_seconds=0.5),
        "fallback": {"provider": "local", "operation": "stylize", "settings": {}},
        "size_limit_mb": 8,
        "version": before["version"],
    }
    response = await save(admin_client, body, "slot-003")
    assert response.status_code == 200, response.text
    saved = response.json()
    assert saved["version"] == before["version"] + 1
    assert saved["updated_by"] == ADMIN_USERNAME
    assert saved["updated_at"] > before["updated_at"]
    assert (saved["name"], saved["size_limit_mb"], saved["active"]) == ("Beach", 8, True)
    assert saved["settings"]["delay_seconds"] == 0.5
    # Normalised by the settings model: defaults filled in.
    assert saved["fallback"]["provider"] == "local"
    assert saved["fallback"]["settings"]["style"]
    assert (await admin_client.get("/api/slots/slot-003")).json() == saved

    async with factory() as session:
        entries = (await session.scalars(select(AuditEntry))).all()
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.actor, entry.action, entry.target) == (ADMIN_USERNAME, "slot.update", "slot-003")
    assert entry.before["provider"] == before["provider"]
    assert entry.before["version"] == before["version"]
    assert entry.after["provider"] == "echo"
    assert entry.after["version"] == saved["version"]
    trail = (await admin_client.get("/api/slots/slot-003/audit")).json()["entries"]
    assert [(e["action"], e["after"]["name"]) for e in trail] == [("slot.update", "Beach")]


async def test_fields_left_out_are_kept(admin_client: httpx.AsyncClient) -> None:
    await save(admin_client, {**echo(delay_seconds=0.25), "name": "Kept", "active": False})
    response = await save(admin_client, {"size_limit_mb": 5})
    assert response.status_code == 200
    slot = response.json()
    assert (slot["name"], slot["provider"], slot["active"], slot["size_limit_mb"]) == (
        "Kept",
        "echo",
        False,
        5,
    )
    assert slot["settings"]["delay_seconds"] == 0.25


async def test_null_removes_the_fallback_and_is_refused_elsewhere(
    admin_client: httpx.AsyncClient,
) -> None:
    fallback = {"provider": "echo", "operation": "echo", "settings": {}}
    with_fallback = await save(admin_client, {"fallback": fallback})
    assert with_fallback.json()["fallback"]["provider"] == "echo"
    removed = await save(admin_client, {"fallback": None})
    assert removed.json()["fallback"] is None
    fields = fields_of(await save(admin_client, {"name": None, "active": None}))
    assert set(fields) == {"name", "active"}
    # The document offers null only where it is taken.
    document = (await admin_client.get("/openapi.json")).json()
    fields_doc = document["components"]["schemas"]["SlotUpdate"]["properties"]
    takes_null = {name for name, field in fields_doc.items() if NULL_TYPE in json.dumps(field)}
    assert takes_null == {"settings", "fallback", "daily_budget", "version", "template_media"}


async def test_numbers_and_booleans_are_what_the_document_says(
    admin_client: httpx.AsyncClient,
) -> None:
    """pydantic alone reads `"yes"` as true and `"5"` as 5."""
    sent = {"active": "yes", "size_limit_mb": "5", "daily_budget": True, "keep_metadata": 1}
    sent["name"] = "Beach\x00"  # PostgreSQL cannot store a NUL character; SQLite could
    fields = fields_of(await save(admin_client, sent))
    assert set(fields) == set(sent)


async def test_bad_provider_settings_are_422_with_field_paths(
    admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    bad = {
        "provider": "gemini",
        "operation": "edit",
        "settings": {"prompt": "  ", "model": "dall-e-2", "aspect_ratio": "7:3", "colour": 1},
        "fallback": {"provider": "openai", "operation": "edit", "settings": {"size": "9x9"}},
    }
    fields = fields_of(await save(admin_client, bad))
    assert {
        "settings.prompt",
        "settings.model",
        "settings.aspect_ratio",
        "settings.colour",
        "fallback.settings.prompt",
        "fallback.settings.size",
    } <= set(fields)
    assert "settings.colour" in fields  # unknown keys are refused, not ignored

    # The body's own shape is checked first, by FastAPI, with the same error shape.
    fields = fields_of(await save(admin_client, {"size_limit_mb": 21, "on_failure": "retry"}))
    assert set(fields) == {"size_limit_mb", "on_failure"}
    fields = fields_of(await save(admin_client, {"provider": "gemini", "operation": "paint"}))
    assert set(fields) == {"operation"}
    fields = fields_of(await save(admin_client, {"provider": "dalle", "operation": "edit"}))
    assert set(fields) == {"provider"}
    fields = fields_of(await save(admin_client, {"fallback": {"provider": "x", "operation": "y"}}))
    assert set(fields) == {"fallback.provider"}

    async with factory() as session:
        slot = await session.get(Slot, "slot-001")
        audit = (await session.scalars(select(AuditEntry))).all()
    assert slot is not None
    assert (slot.version, slot.provider) == (1, "local")  # nothing was saved
    assert audit == []


async def test_a_stale_version_is_409_and_changes_nothing(admin_client: httpx.AsyncClient) -> None:
    first = await save(admin_client, {**echo(), "version": 1})
    assert first.status_code == 200
    stale = await save(admin_client, {"name": "Late edit", "version": 1})
    assert_error(stale, 409, "slot_version_conflict")
    slot = (await admin_client.get("/api/slots/slot-001")).json()
    assert (slot["version"], slot["name"]) == (2, first.json()["name"])


async def test_the_next_ingest_runs_the_saved_configuration(
    admin_client: httpx.AsyncClient, client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    photo_seed = 301
    assert (await ingest(client, seed=photo_seed)).status_code == 200  # the local provider
    response = await save(admin_client, echo())
    assert response.status_code == 200
    answer = await ingest(client, seed=photo_seed)  # the same photo, re-sent
    assert answer.status_code == 200
    # echo answers the photo unchanged: proof the new settings ran, and that the
    # version bump kept the earlier (local) result from being reused.
    assert answer.content == make_image("JPEG", (320, 240), seed=photo_seed)
    async with factory() as session:
        jobs = (await session.scalars(select(Job).order_by(Job.started_at))).all()
    assert [(job.provider, job.slot_version) for job in jobs] == [("local", 1), ("echo", 2)]

    await save(admin_client, {"active": False})
    assert_error(await ingest(client, seed=302), 404, "slot_disabled")


async def test_of_two_saves_over_one_version_one_wins(admin_client: httpx.AsyncClient) -> None:
    answers = await asyncio.gather(
        save(admin_client, {"name": "First", "version": 1}),
        save(admin_client, {"name": "Second", "version": 1}),
    )
    assert sorted(answer.status_code for answer in answers) == [200, 409]
    winner = next(answer.json() for answer in answers if answer.status_code == 200)
    slot = (await admin_client.get("/api/slots/slot-001")).json()
    assert (slot["name"], slot["version"]) == (winner["name"], 2)
    trail = (await admin_client.get("/api/slots/slot-001/audit")).json()["entries"]
    assert len(trail) == 1
