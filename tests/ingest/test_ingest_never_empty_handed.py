"""Never empty-handed (SPEC §10): a slot with `on_failure: original` answers a
failed edit with 200 and the guest's own photo — upright, without metadata,
in its own format — marked `X-PhotoChanger-Degraded`, and the job ends `done`
and degraded. Primary (with retries) → fallback → on_failure, in that order;
a provider that hangs is given up `on_failure_margin_seconds` before T_sync."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from fakes import gemini
from fakes.gemini import GeminiFake
from fakes.server import Reply
from ingest.photos_with_metadata import guest_photo, leaks, mark_corner
from photochanger.config import Settings
from photochanger.models import Job, Slot
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
    put_setting,
)

DEGRADED = "x-photochanger-degraded"
PROMPT = "Put the guests in a snowy forest."


@pytest.fixture
def config(config: Settings, gemini_server: GeminiFake) -> Settings:
    return config.model_copy(update={"provider_base_urls": {"gemini": gemini_server.base_url}})


async def gemini_slot(factory: SessionFactory, **extra: Any) -> None:
    await put_setting(factory, "gemini_api_key", gemini.API_KEY)
    values = {
        "provider": "gemini",
        "operation": "edit",
        "settings": {"prompt": PROMPT},
        "on_failure": "original",
        **extra,
    }
    await configure_slot(factory, "slot-001", **values)


async def post(
    client: httpx.AsyncClient, photo: bytes, name: str = "IMG_0001.JPG"
) -> httpx.Response:
    return await client.post(
        "/api/ingest/slot-001",
        data=booth_fields(),
        files={"fileToUpload": (name, photo, "application/octet-stream")},
        timeout=60,
    )


async def only_job(factory: SessionFactory) -> Job:
    async with factory() as session:
        return (await session.scalars(select(Job))).one()


async def test_a_safety_refusal_answers_the_guests_own_photo_upright_and_clean(
    client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    await gemini_slot(factory)
    gemini_fake.queue(gemini.no_image("IMAGE_SAFETY", "The image may show a minor."))
    photo = guest_photo("JPEG", orientation=6)
    assert leaks(photo)  # the test photo does carry them

    response = await post(client, photo)

    assert response.status_code == 200, response.text
    assert response.headers[DEGRADED] == "provider_error:IMAGE_SAFETY"
    assert response.headers["content-type"] == "image/jpeg"
    assert len(gemini_fake.received) == 1  # a safety refusal is not retried
    answer = response.content
    assert leaks(answer) == []
    with Image.open(io.BytesIO(answer)) as image:
        assert (image.format, image.size) == ("JPEG", (300, 400))  # turned upright
    assert mark_corner(answer) == "top-right"

    job = await only_job(factory)
    assert job.id == response.headers["x-job-id"]
    assert (job.status, job.produced_by) == ("done", "original")
    assert job.degraded_reason == "provider_error:IMAGE_SAFETY"
    assert job.failure_reason is None
    assert "IMAGE_SAFETY" in (job.failure_details or "")
    assert [(a["outcome"], a["reason"]) for a in job.attempts] == [("permanent", "IMAGE_SAFETY")]
    # A result like any other: its public link serves the same clean photo.
    public = await client.get(f"/public/results/{job.id}")
    assert public.status_code == 200
    assert public.content == answer


async def test_a_provider_that_never_answers_gets_the_original_before_the_window_closes(
    client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    await put_setting(factory, "sync_response_seconds", 10)
    await put_setting(factory, "on_failure_margin_seconds", 3)
    await gemini_slot(factory)
    gemini_fake.queue(*[Reply(delay=300.0)] * 3)  # hangs far past the window

    response = await post(client, make_image("PNG", (160, 120), seed=5), name="a.png")

    # Without the margin this is the deadline's 504.
    assert response.status_code == 200, response.text
    assert response.headers[DEGRADED] == "timeout"
    assert response.headers["content-type"] == "image/png"
    job = await only_job(factory)
    assert (job.status, job.produced_by, job.degraded_reason) == ("done", "original", "timeout")
    assert job.duration_ms is not None
    assert job.duration_ms < 10_000  # answered inside the 10 s window
    assert job.attempts[-1]["outcome"] == "timeout"


async def test_on_failure_error_keeps_the_error(
    client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    await gemini_slot(factory, on_failure="error")
    gemini_fake.queue(gemini.no_image("IMAGE_SAFETY"))
    response = await post(client, make_image("JPEG", (160, 120)))
    assert_error(response, 502, "provider_error")
    assert DEGRADED not in response.headers
    job = await only_job(factory)
    assert (job.status, job.degraded_reason, job.result_key) == ("failed", None, None)


async def test_a_failing_fallback_then_the_original(
    client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    """Primary → fallback → on_failure: both providers fail, the guest still gets a photo."""
    failing = echo(fail_with="the fallback failed too", fail_kind="permanent")
    await gemini_slot(factory, fallback=failing)
    gemini_fake.queue(
        gemini.error(400, "INVALID_ARGUMENT", "Request contains an invalid argument.")
    )
    photo = guest_photo("WEBP")

    response = await post(client, photo, name="a.webp")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/webp"
    assert response.headers[DEGRADED] == "provider_error"
    assert leaks(response.content) == []
    job = await only_job(factory)
    assert [(a["provider"], a["role"], a["outcome"]) for a in job.attempts] == [
        ("gemini", "primary", "permanent"),
        ("echo", "fallback", "permanent"),
    ]
    assert (job.produced_by, job.degraded_reason) == ("original", "provider_error")


async def test_a_local_fallback_answers_and_is_not_degraded(
    client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    local = {"provider": "local", "operation": "stylize", "settings": {"style": "pencil"}}
    await gemini_slot(factory, fallback=local)
    gemini_fake.queue(gemini.no_image("IMAGE_SAFETY"))
    photo = make_image("JPEG", (320, 240), seed=8)

    response = await post(client, photo)

    assert response.status_code == 200, response.text
    assert DEGRADED not in response.headers
    assert response.content != photo
    job = await only_job(factory)
    assert (job.produced_by, job.degraded_reason) == ("local", None)


async def test_no_key_answers_the_original(
    client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    await gemini_slot(factory)
    await put_setting(factory, "gemini_api_key", "")
    response = await post(client, make_image("JPEG", (160, 120)))
    assert response.status_code == 200, response.text
    assert response.headers[DEGRADED] == "provider_unavailable"
    assert gemini_fake.received == []


async def test_the_test_run_says_it_answered_with_the_original(
    admin_client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    await gemini_slot(factory, on_failure="error")
    gemini_fake.queue(gemini.no_image("IMAGE_SAFETY"))
    response = await admin_client.post(
        "/api/slots/slot-001/test-run",
        files={"test_image": ("t.jpg", make_image("JPEG", (160, 120)), "image/jpeg")},
        data={"slot_payload": '{"on_failure": "original"}'},  # unsaved, applied for the run
        timeout=60,
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["degraded_reason"], answer["produced_by"]) == (
        "provider_error:IMAGE_SAFETY",
        "original",
    )


async def test_an_original_the_parser_balks_at_is_still_answered_clean(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    """Junk between two JPEG segments: decoders read it, so the guest gets it,
    encoded again without metadata, not a 502."""
    failing = echo(fail_with="nope", fail_kind="permanent")
    await configure_slot(factory, "slot-001", on_failure="original", **failing)
    photo = guest_photo("JPEG")
    tables = photo.index(b"\xff\xdb")
    response = await post(client, photo[:tables] + b"\0\0" + photo[tables:])
    assert response.status_code == 200, response.text
    assert response.headers[DEGRADED] == "provider_error"
    assert leaks(response.content) == []


async def test_a_re_sent_photo_whose_original_is_stuck_gets_the_original_in_time(
    client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    """The first upload's replica died with its job pending and its window
    open: the re-send does not wait past its own margin for it."""
    await put_setting(factory, "sync_response_seconds", 10)
    await gemini_slot(factory)
    photo = make_image("JPEG", (160, 120), seed=77)
    stuck = job_row(
        "stuck-on-a-dead-replica",
        utcnow(),
        status="pending",
        provider="gemini",
        operation="edit",
        slot_version=1,
        input_sha256=hashlib.sha256(photo).hexdigest(),
        deadline_at=utcnow() + timedelta(seconds=60),
    )
    async with factory() as session:
        stuck["slot_version"] = (await session.get(Slot, "slot-001")).version  # type: ignore[union-attr]
    await insert_jobs(factory, [stuck])

    response = await post(client, photo)

    assert response.status_code == 200, response.text
    assert response.headers[DEGRADED] == "timeout"
    assert response.headers["x-job-id"] != "stuck-on-a-dead-replica"
    assert gemini_fake.received == []  # no time was left to call it
