"""The provider chain through the real ingest (SPEC §3.5, §4.6): retries inside the
window, fallback, keys read per call, and no double billing for a re-sent photo.
The cloud providers are the fake Gemini and OpenAI servers on loopback."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from fakes import gemini
from fakes import openai as openai_api
from fakes.gemini import GeminiFake
from fakes.openai import OpenAIFake
from photochanger.config import Settings
from photochanger.models import Job
from support import (
    SessionFactory,
    assert_error,
    booth_fields,
    configure_slot,
    make_image,
    put_setting,
)

PROMPT = "Put the guests on a sunny beach; keep faces and clothes exactly."


@pytest.fixture
def config(config: Settings, gemini_server: GeminiFake, openai_server: OpenAIFake) -> Settings:
    return config.model_copy(
        update={
            "provider_base_urls": {
                "gemini": gemini_server.base_url,
                "openai": openai_server.base_url,
            }
        }
    )


def gemini_slot(**extra: Any) -> dict[str, Any]:
    return {
        "provider": "gemini",
        "operation": "edit",
        "settings": {"prompt": PROMPT},
        **extra,
    }


async def post(
    client: httpx.AsyncClient, photo: bytes | None = None, slot: str = "slot-001"
) -> httpx.Response:
    photo = photo if photo is not None else make_image("JPEG", (320, 240), seed=3)
    return await client.post(
        f"/api/ingest/{slot}",
        data=booth_fields(),
        files={"fileToUpload": ("IMG_0001.jpg", photo, "image/jpeg")},
        timeout=60,
    )


async def only_job(factory: SessionFactory) -> Job:
    async with factory() as session:
        return (await session.scalars(select(Job))).one()


async def with_gemini_key(factory: SessionFactory) -> None:
    await put_setting(factory, "gemini_api_key", gemini.API_KEY)


async def test_transient_failures_are_retried_inside_the_window(
    client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    await with_gemini_key(factory)
    await configure_slot(factory, "slot-001", **gemini_slot())
    gemini_fake.queue(
        gemini.error(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
        gemini.no_image("NO_IMAGE"),
    )
    response = await post(client)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert len(gemini_fake.received) == 3
    job = await only_job(factory)
    assert (job.status, job.produced_by) == ("done", "gemini")
    assert [a["outcome"] for a in job.attempts] == ["transient", "transient", "ok"]
    assert [a.get("reason") for a in job.attempts[:2]] == ["UNAVAILABLE", "NO_IMAGE"]
    assert job.attempts[2]["response_id"].startswith("resp-")


async def test_a_safety_block_is_not_retried(
    client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    await with_gemini_key(factory)
    await configure_slot(factory, "slot-001", **gemini_slot())
    gemini_fake.queue(gemini.no_image("IMAGE_SAFETY", "The image may show a minor."))
    body = assert_error(await post(client), 502, "provider_error")
    assert "IMAGE_SAFETY" in str(body["details"])
    assert len(gemini_fake.received) == 1
    job = await only_job(factory)
    assert (job.status, job.failure_reason) == ("failed", "provider_error")
    assert [(a["outcome"], a["reason"]) for a in job.attempts] == [("permanent", "IMAGE_SAFETY")]


async def test_openai_moderation_is_permanent(
    client: httpx.AsyncClient, factory: SessionFactory, openai_fake: OpenAIFake
) -> None:
    await put_setting(factory, "openai_api_key", openai_api.API_KEY)
    await configure_slot(
        factory, "slot-001", provider="openai", operation="edit", settings={"prompt": PROMPT}
    )
    openai_fake.queue(openai_api.moderation_blocked())
    assert_error(await post(client), 502, "provider_error")
    assert len(openai_fake.received) == 1
    job = await only_job(factory)
    assert job.attempts[0]["reason"] == "moderation_blocked"


async def test_the_fallback_runs_when_the_primary_fails(
    client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    await with_gemini_key(factory)
    fallback = {"provider": "local", "operation": "enhance", "settings": {}}
    await configure_slot(factory, "slot-001", **gemini_slot(fallback=fallback))
    gemini_fake.queue(gemini.error(400, "INVALID_ARGUMENT", "Unsupported image."))
    response = await post(client)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    job = await only_job(factory)
    assert (job.status, job.produced_by) == ("done", "local")
    assert [(a["provider"], a["role"], a["outcome"]) for a in job.attempts] == [
        ("gemini", "primary", "permanent"),
        ("local", "fallback", "ok"),
    ]


async def test_a_hanging_primary_leaves_the_fallback_its_share_of_the_window(
    client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    await put_setting(factory, "sync_response_seconds", 10)
    await with_gemini_key(factory)
    fallback = {"provider": "local", "operation": "stylize", "settings": {"style": "pencil"}}
    await configure_slot(factory, "slot-001", **gemini_slot(fallback=fallback))
    gemini_fake.queue(gemini.success(delay=30))
    response = await post(client)
    assert response.status_code == 200
    job = await only_job(factory)
    assert job.produced_by == "local"
    assert job.attempts[0]["outcome"] == "timeout"
    assert job.duration_ms is not None
    assert job.duration_ms < 10_000


async def test_a_provider_without_a_key_is_unavailable(
    client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    await configure_slot(factory, "slot-001", **gemini_slot())
    assert_error(await post(client), 503, "provider_unavailable")
    assert gemini_fake.received == []
    assert (await only_job(factory)).failure_reason == "provider_unavailable"


async def test_a_key_saved_in_settings_applies_to_the_next_call(
    client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    await put_setting(factory, "gemini_api_key", "AIza-revoked-key")
    await configure_slot(factory, "slot-001", **gemini_slot())
    assert_error(await post(client, make_image(seed=1)), 502, "provider_error")
    await with_gemini_key(factory)
    assert (await post(client, make_image(seed=2))).status_code == 200
    keys = [request.headers["x-goog-api-key"] for request in gemini_fake.received]
    assert keys == ["AIza-revoked-key", gemini.API_KEY]


async def test_a_key_echoed_by_the_provider_is_not_recorded(
    client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    await with_gemini_key(factory)
    await configure_slot(factory, "slot-001", **gemini_slot())
    gemini_fake.queue(gemini.error(400, "INVALID_ARGUMENT", f"Key {gemini.API_KEY} not allowed"))
    body = assert_error(await post(client), 502, "provider_error")
    assert gemini.API_KEY not in str(body)
    job = await only_job(factory)
    assert gemini.API_KEY not in str(job.failure_details)
    assert gemini.API_KEY not in str(job.attempts)


async def test_two_identical_uploads_at_once_pay_the_provider_once(
    client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    await with_gemini_key(factory)
    await configure_slot(factory, "slot-001", **gemini_slot())
    gemini_fake.queue(gemini.success(delay=1.5))
    photo = make_image("JPEG", (320, 240), seed=11)
    first, second = await asyncio.gather(post(client, photo), post(client, photo))
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.content == second.content
    assert first.headers["x-job-id"] == second.headers["x-job-id"]
    assert len(gemini_fake.received) == 1
    async with factory() as session:
        assert await session.scalar(select(func.count()).select_from(Job)) == 1


async def test_a_resent_photo_gets_the_done_result_without_a_new_call(
    client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    await with_gemini_key(factory)
    await configure_slot(factory, "slot-001", **gemini_slot())
    photo = make_image("JPEG", (320, 240), seed=12)
    first = await post(client, photo)
    again = await post(client, photo)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.content == first.content
    assert again.headers["x-result-url"] == first.headers["x-result-url"]
    assert len(gemini_fake.received) == 1
    # Another slot, or another photo, is another job.
    await configure_slot(factory, "slot-002", **gemini_slot())
    assert (await post(client, photo, slot="slot-002")).status_code == 200
    assert (await post(client, make_image("JPEG", (320, 240), seed=13))).status_code == 200
    assert len(gemini_fake.received) == 3


async def test_a_photo_resent_after_the_slot_changed_runs_with_the_new_settings(
    client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    """A studio re-testing the same photo after editing the prompt must see the
    new look, not the result of the old version."""
    await with_gemini_key(factory)
    await configure_slot(factory, "slot-001", **gemini_slot(), version=1)
    photo = make_image("JPEG", (320, 240), seed=15)
    first = await post(client, photo)
    await configure_slot(factory, "slot-001", version=2)  # as a saved edit bumps it
    again = await post(client, photo)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers["x-job-id"] != first.headers["x-job-id"]
    assert len(gemini_fake.received) == 2


async def test_a_photo_resent_after_a_failure_is_tried_again(
    client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    await with_gemini_key(factory)
    await configure_slot(factory, "slot-001", **gemini_slot())
    gemini_fake.queue(gemini.error(400, "INVALID_ARGUMENT", "Unsupported image."))
    photo = make_image("JPEG", (320, 240), seed=14)
    assert_error(await post(client, photo), 502, "provider_error")
    assert (await post(client, photo)).status_code == 200
    assert len(gemini_fake.received) == 2
