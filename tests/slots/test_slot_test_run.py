"""The admin's test run (SPEC §6.2): the booth's ingest path with the form's
unsaved values, no password, `source=ui_test`, JSON answers, nothing saved."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from fakes import gemini
from fakes.gemini import GeminiFake
from photochanger.config import Settings
from photochanger.models import Job, Slot
from support import (
    SessionFactory,
    assert_error,
    booth_fields,
    configure_slot,
    echo,
    make_image,
    put_setting,
)


@pytest.fixture
def config(config: Settings, gemini_server: GeminiFake) -> Settings:
    return config.model_copy(update={"provider_base_urls": {"gemini": gemini_server.base_url}})


async def run_test(
    admin: httpx.AsyncClient,
    photo: bytes,
    payload: dict[str, Any] | str | None = None,
    slot: str = "slot-001",
) -> httpx.Response:
    data = {}
    if payload is not None:
        data["slot_payload"] = payload if isinstance(payload, str) else json.dumps(payload)
    return await admin.post(
        f"/api/slots/{slot}/test-run",
        data=data,
        files={"test_image": ("test.jpg", photo, "image/jpeg")},
        timeout=60,
    )


async def jobs(factory: SessionFactory) -> list[Job]:
    async with factory() as session:
        return list((await session.scalars(select(Job).order_by(Job.started_at))).all())


async def test_a_test_run_answers_json_with_a_working_result_link(
    admin_client: httpx.AsyncClient, client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    photo = make_image("JPEG", (320, 240), seed=401)
    response = await run_test(admin_client, photo)  # no password field at all
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "done"
    assert answer["public_result_url"] == f"http://booth.test/public/results/{answer['job_id']}"
    assert answer["preview_url"] == answer["public_result_url"] + "/preview.webp"
    assert 0 < answer["completed_in_seconds"] < 30
    result = await client.get(answer["public_result_url"].removeprefix("http://booth.test"))
    assert result.status_code == 200
    assert result.content == photo  # echo

    [job] = await jobs(factory)
    assert (job.id, job.source, job.status, job.provider) == (
        answer["job_id"],
        "ui_test",
        "done",
        "echo",
    )
    # A test photo sent twice runs twice: no dedupe for test runs.
    again = await run_test(admin_client, photo)
    assert again.status_code == 200
    assert again.json()["job_id"] != answer["job_id"]
    recent = (await admin_client.get("/api/slots/slot-001")).json()["recent_results"]
    assert {item["source"] for item in recent} == {"ui_test"}


async def test_overrides_are_used_and_not_saved(
    admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    photo = make_image("JPEG", (320, 240), seed=402)
    # The slot is on `local`; the form says echo.
    response = await run_test(admin_client, photo, echo(delay_seconds=0.1))
    assert response.status_code == 200, response.text
    [job] = await jobs(factory)
    assert (job.provider, job.operation, job.source) == ("echo", "echo", "ui_test")
    slot = (await admin_client.get("/api/slots/slot-001")).json()
    assert (slot["provider"], slot["version"]) == ("local", 1)
    async with factory() as session:
        stored = await session.get(Slot, "slot-001")
    assert stored is not None
    assert stored.provider == "local"


async def test_an_inactive_slot_can_be_tested(
    admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-002", active=False, **echo())
    response = await run_test(admin_client, make_image("JPEG", seed=403), slot="slot-002")
    assert response.status_code == 200, response.text


async def test_an_invalid_payload_is_422_with_field_paths(
    admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    photo = make_image("JPEG", seed=404)
    bad = {"provider": "gemini", "operation": "edit", "settings": {"aspect_ratio": "2:1"}}
    body = assert_error(await run_test(admin_client, photo, bad), 422, "validation_error")
    fields = {error["field"] for error in body["errors"]}  # type: ignore[union-attr]
    assert fields == {"settings.prompt", "settings.aspect_ratio"}

    body = assert_error(await run_test(admin_client, photo, "{not json"), 422, "validation_error")
    assert [e["field"] for e in body["errors"]] == ["slot_payload"]  # type: ignore[union-attr]
    body = assert_error(
        await run_test(admin_client, photo, {"template_media": {"logo": "x"}}),
        422,
        "validation_error",
    )
    assert [e["field"] for e in body["errors"]] == ["template_media.logo"]  # type: ignore[union-attr]
    assert await jobs(factory) == []


async def test_errors_are_the_ingests(
    admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    pdf = b"%PDF-1.7\n" + b"0" * 4000
    assert_error(await run_test(admin_client, pdf), 415, "unsupported_media_type")
    assert_error(
        await run_test(admin_client, make_image(seed=405), slot="slot-016"), 404, "slot_not_found"
    )
    no_file = await admin_client.post("/api/slots/slot-001/test-run", data={"slot_payload": "{}"})
    assert_error(no_file, 400, "invalid_request")
    await configure_slot(factory, "slot-001", size_limit_mb=1)
    big = make_image("PNG", (1400, 1000), seed=406)
    assert len(big) > 1024 * 1024
    assert_error(await run_test(admin_client, big), 413, "payload_too_large")
    assert await jobs(factory) == []


async def test_a_provider_error_and_a_timeout(
    admin_client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    failing = echo(fail_with="model overloaded")
    body = assert_error(
        await run_test(admin_client, make_image(seed=407), failing), 502, "provider_error"
    )
    assert "model overloaded" in str(body["details"])

    await put_setting(factory, "sync_response_seconds", 10)
    slow = echo(delay_seconds=30)
    response = await run_test(admin_client, make_image(seed=408), slow)
    assert_error(response, 504, "provider_timeout")
    failed, timed_out = await jobs(factory)
    assert (failed.source, failed.status, failed.failure_reason) == (
        "ui_test",
        "failed",
        "provider_error",
    )
    assert (timed_out.source, timed_out.status, timed_out.failure_reason) == (
        "ui_test",
        "timeout",
        "provider_timeout",
    )
    assert timed_out.duration_ms is not None
    assert timed_out.duration_ms < 12_000


async def test_an_unsaved_template_and_prompt_reach_the_provider(
    admin_client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    await put_setting(factory, "gemini_api_key", gemini.API_KEY)
    template = make_image("PNG", (96, 64), seed=409)
    uploaded = await admin_client.post(
        "/api/template-media",
        data={"role": "background", "slot_id": "slot-001"},
        files={"file": ("bg.png", template, "image/png")},
    )
    assert uploaded.status_code == 201, uploaded.text
    payload = {
        "provider": "gemini",
        "operation": "edit",
        "settings": {"prompt": "Put them in front of the second image."},
        "template_media": {"background": uploaded.json()["id"]},
    }
    response = await run_test(admin_client, make_image("JPEG", (320, 240), seed=410), payload)
    assert response.status_code == 200, response.text
    parts = gemini_fake.received[-1].json()["contents"][0]["parts"]
    images = [part["inline_data"]["data"] for part in parts if "inline_data" in part]
    assert [base64.b64decode(data) for data in images[1:]] == [template]
    assert parts[-1] == {"text": "Put them in front of the second image."}
    slot = (await admin_client.get("/api/slots/slot-001")).json()
    assert (slot["provider"], slot["template_media"], slot["version"]) == ("local", [], 1)
    [job] = await jobs(factory)
    assert (job.provider, job.source, job.produced_by) == ("gemini", "ui_test", "gemini")


async def test_test_runs_count_against_the_slots_limit(
    admin_client: httpx.AsyncClient, client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", **echo(delay_seconds=1.5))
    await put_setting(factory, "slot_concurrency_limit", 1)
    running = asyncio.create_task(run_test(admin_client, make_image(seed=411), None))
    for _ in range(250):  # until the first run's job is pending
        if await jobs(factory):
            break
        await asyncio.sleep(0.02)
    booth = await client.post(
        "/api/ingest/slot-001",
        data=booth_fields(),
        files={"fileToUpload": ("a.jpg", make_image(seed=412), "image/jpeg")},
    )
    assert_error(booth, 429, "rate_limited")
    assert_error(await run_test(admin_client, make_image(seed=413), None), 429, "rate_limited")
    assert (await running).status_code == 200
