"""A Turbotext slot through the real ingest of a running server (SPEC §4.5):
the fake Turbotext fetches the photo over HTTP from the provider-media URL the
server published, as the real one does, and that link dies with the job."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import select

from conftest import LiveServer, start_live_server
from fakes.turbotext import RESULT_PNG, FakeTurbotext, json_answer
from fakes.turbotext_bench import API_KEY, PROMPT
from ingest.photos_with_metadata import guest_photo, leaks, mark_corner
from photochanger.config import Settings
from photochanger.models import Job, MediaObject
from support import SessionFactory, assert_error, booth_fields, configure_slot, make_image

SLOT = "slot-004"
PHOTO = make_image("JPEG", (320, 240), seed=31)


@pytest.fixture
def server(config: Settings, app: FastAPI, fake: FakeTurbotext) -> Iterator[LiveServer]:
    """`photochanger serve` with Turbotext pointed at the fake. It must be a real
    server on loopback: the fake fetches our published inputs over HTTP."""
    live = start_live_server(
        config,
        extra_env={
            "PHOTOCHANGER_TURBOTEXT_BASE_URL": fake.base_url,
            "PHOTOCHANGER_TURBOTEXT_API_KEY": API_KEY,
        },
    )
    yield live
    live.stop()


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, trust_env=False, timeout=60) as client:
        yield client


@pytest.fixture
async def turbotext_slot(factory: SessionFactory) -> str:
    await configure_slot(
        factory,
        SLOT,
        provider="turbotext",
        operation="generate_image2image",
        settings={"prompt": PROMPT, "seed": 77},
        fallback=None,  # a fallback would hide the failure case
    )
    return SLOT


async def ingest(http: httpx.AsyncClient, slot: str) -> httpx.Response:
    return await http.post(
        f"/api/ingest/{slot}",
        data=booth_fields(),
        files={"fileToUpload": ("IMG_0001.JPG", PHOTO, "image/jpeg")},
    )


async def the_job(factory: SessionFactory) -> Job:
    async with factory() as session:
        return (await session.scalars(select(Job))).one()


async def provider_media(factory: SessionFactory) -> list[MediaObject]:
    async with factory() as session:
        query = select(MediaObject).where(MediaObject.kind == "provider_media")
        return list(await session.scalars(query))


async def assert_published_then_discarded(
    http: httpx.AsyncClient,
    server: LiveServer,
    config: Settings,
    factory: SessionFactory,
    fake: FakeTurbotext,
    job: Job,
) -> None:
    """The fake got the photo, byte for byte, from the one URL the server gave it;
    once the job ended the row is cleaned, the file gone and the link 410."""
    (create,) = fake.calls("create_queue")
    url = create.fields["url"]
    assert url.startswith(f"{server.base_url}/public/provider-media/")
    (fetch,) = fake.fetches
    assert (fetch.field, fetch.url, fetch.status) == ("url", url, 200)
    assert (fetch.content, fetch.content_type) == (PHOTO, "image/jpeg")

    (row,) = await provider_media(factory)
    assert row.id == url.rsplit("/", 1)[1]
    assert (row.job_id, row.slot_id, row.size, row.mime) == (job.id, SLOT, len(PHOTO), "image/jpeg")
    assert row.expires_at == job.deadline_at
    assert row.cleaned_at is not None
    assert job.finished_at is not None
    assert row.cleaned_at >= job.finished_at  # discarded when the job ended, not by the GET below
    assert not (config.resolved_media_root / row.key).exists()

    assert_error(await http.get(url), 410, "media_expired")


async def test_a_turbotext_slot_answers_the_booth_with_the_result(
    http: httpx.AsyncClient,
    server: LiveServer,
    config: Settings,
    factory: SessionFactory,
    fake: FakeTurbotext,
    turbotext_slot: str,
) -> None:
    response = await ingest(http, turbotext_slot)

    assert response.status_code == 200, response.text
    assert response.content == RESULT_PNG
    assert response.headers["content-type"] == "image/png"
    job_id = response.headers["x-job-id"]
    assert response.headers["x-result-url"] == f"{server.base_url}/public/results/{job_id}"

    (create,) = fake.calls("create_queue")
    assert create.path == "/api_ai/generate_image2image"
    assert create.headers["authorization"] == f"Bearer {API_KEY}"
    assert (create.fields["content"], create.fields["seed"]) == (PROMPT, "77")
    (poll,) = fake.calls("get_result")
    assert poll.form == [("do", "get_result"), ("queueid", "4242")]

    job = await the_job(factory)
    assert job.id == job_id
    assert (job.status, job.provider, job.operation) == (
        "done",
        "turbotext",
        "generate_image2image",
    )
    assert job.input_sha256 == hashlib.sha256(PHOTO).hexdigest()
    assert job.produced_by == "turbotext"
    assert [(a["provider"], a["role"], a["outcome"], a["response_id"]) for a in job.attempts] == [
        ("turbotext", "primary", "ok", "4242")
    ]
    assert (job.result_mime, job.result_size) == ("image/png", len(RESULT_PNG))

    await assert_published_then_discarded(http, server, config, factory, fake, job)
    # The result itself outlives the input link.
    result = await http.get(f"/public/results/{job_id}")
    assert (result.status_code, result.content) == (200, RESULT_PNG)


async def test_a_turbotext_error_is_a_provider_error_and_the_input_is_discarded(
    http: httpx.AsyncClient,
    server: LiveServer,
    config: Settings,
    factory: SessionFactory,
    fake: FakeTurbotext,
    turbotext_slot: str,
) -> None:
    """Queued, the photo fetched, then Turbotext gives up on it: not retried
    (the same photo would fail the same way), and the booth gets a 502."""
    fake.scenario.result = json_answer({"success": False, "error": "face not detected"})

    response = await ingest(http, turbotext_slot)

    body = assert_error(response, 502, "provider_error")
    assert "face not detected" in str(body["details"])
    assert len(fake.calls("create_queue")) == 1
    assert len(fake.calls("get_result")) == 1
    job = await the_job(factory)
    assert (job.status, job.failure_reason, job.produced_by) == ("failed", "provider_error", None)
    assert job.failure_details is not None
    assert "face not detected" in job.failure_details
    (attempt,) = job.attempts
    assert (attempt["provider"], attempt["outcome"], attempt["response_id"]) == (
        "turbotext",
        "permanent",
        "4242",
    )
    assert job.result_key is None
    await assert_published_then_discarded(http, server, config, factory, fake, job)


async def test_turbotext_fetches_the_downscaled_upright_photo(
    http: httpx.AsyncClient,
    factory: SessionFactory,
    fake: FakeTurbotext,
    turbotext_slot: str,
) -> None:
    """SPEC §10: what Turbotext fetches from its provider-media URL is the photo
    as every remote provider gets it — upright, without metadata, at most the
    slot's `max_input_megapixels` — not the booth's 12 MP file."""
    await configure_slot(factory, turbotext_slot, max_input_megapixels=3.0)
    photo = guest_photo("JPEG", (4000, 3000), orientation=6)
    response = await http.post(
        f"/api/ingest/{turbotext_slot}",
        data=booth_fields(),
        files={"fileToUpload": ("IMG_0002.JPG", photo, "image/jpeg")},
    )
    assert response.status_code == 200, response.text
    (fetch,) = fake.fetches
    assert fetch.content_type == "image/jpeg"
    with Image.open(io.BytesIO(fetch.content)) as sent:
        width, height = sent.size
    assert 2_700_000 < width * height <= 3_000_000
    assert height > width
    assert mark_corner(fetch.content) == "top-right"
    assert leaks(fetch.content) == []
    job = await the_job(factory)
    assert (job.sent_width, job.sent_height, job.sent_size) == (width, height, len(fetch.content))
