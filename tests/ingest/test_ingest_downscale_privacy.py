"""Downscale before the provider and guests' privacy (SPEC §10), through the
real ingest: a remote provider gets the photo upright, without metadata and at
most the slot's `max_input_megapixels`; `local` works at full size; no result,
preview or ZIP carries the guest's EXIF/XMP/IPTC unless the slot keeps it."""

from __future__ import annotations

import base64
import io
import json
import zipfile

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from fakes import gemini
from fakes import openai as openai_api
from fakes.gemini import GeminiFake
from fakes.openai import OpenAIFake
from ingest.photos_with_metadata import guest_photo, leaks, mark_corner
from photochanger.config import Settings
from photochanger.models import Job
from support import SessionFactory, booth_fields, configure_slot, echo, put_setting

TWELVE_MP = (4000, 3000)


@pytest.fixture
def config(config: Settings, gemini_server: GeminiFake, openai_server: OpenAIFake) -> Settings:
    urls = {"gemini": gemini_server.base_url, "openai": openai_server.base_url}
    return config.model_copy(update={"provider_base_urls": urls})


@pytest.fixture(scope="module")
def sideways_12mp() -> bytes:
    """A 12 MP JPEG stored landscape with EXIF orientation 6 (shown portrait)."""
    return guest_photo("JPEG", TWELVE_MP, orientation=6)


async def post(client: httpx.AsyncClient, photo: bytes, slot: str = "slot-001") -> httpx.Response:
    return await client.post(
        f"/api/ingest/{slot}",
        data=booth_fields(),
        files={"fileToUpload": ("IMG.jpg", photo, "image/jpeg")},
        timeout=60,
    )


async def the_job(factory: SessionFactory, job_id: str) -> Job:
    async with factory() as session:
        return (await session.scalars(select(Job).where(Job.id == job_id))).one()


def assert_sent_upright_within(data: bytes, max_megapixels: float) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        width, height = image.size
    assert width * height <= max_megapixels * 1_000_000
    assert width * height > 0.9 * max_megapixels * 1_000_000  # scaled to it, not far below
    assert height > width  # portrait: the orientation was applied to the pixels
    assert abs(width / height - 3 / 4) < 0.01
    assert mark_corner(data) == "top-right"
    assert leaks(data) == []
    return width, height


@pytest.mark.parametrize("max_megapixels", [4.0, 2.0])
async def test_gemini_gets_the_photo_upright_and_downscaled(
    client: httpx.AsyncClient,
    factory: SessionFactory,
    gemini_fake: GeminiFake,
    sideways_12mp: bytes,
    max_megapixels: float,
) -> None:
    await put_setting(factory, "gemini_api_key", gemini.API_KEY)
    await configure_slot(
        factory,
        "slot-001",
        provider="gemini",
        operation="edit",
        settings={"prompt": "Snow."},
        max_input_megapixels=max_megapixels,
    )
    response = await post(client, sideways_12mp)
    assert response.status_code == 200, response.text

    parts = json.loads(gemini_fake.last.body)["contents"][0]["parts"]
    sent = base64.b64decode(parts[0]["inline_data"]["data"])
    assert parts[0]["inline_data"]["mime_type"] == "image/jpeg"
    width, height = assert_sent_upright_within(sent, max_megapixels)
    job = await the_job(factory, response.headers["x-job-id"])
    assert (job.sent_width, job.sent_height, job.sent_size) == (width, height, len(sent))
    assert job.input_size == len(sideways_12mp)


async def test_openai_gets_the_photo_upright_and_downscaled(
    client: httpx.AsyncClient,
    factory: SessionFactory,
    openai_fake: OpenAIFake,
    sideways_12mp: bytes,
) -> None:
    await put_setting(factory, "openai_api_key", openai_api.API_KEY)
    await configure_slot(
        factory, "slot-001", provider="openai", operation="edit", settings={"prompt": "Snow."}
    )
    response = await post(client, sideways_12mp)
    assert response.status_code == 200, response.text
    (photo,) = [part for name, part in openai_fake.last.form if name == "image[]"]
    assert photo.content_type == "image/jpeg"
    assert_sent_upright_within(photo.data, 4.0)


async def test_local_works_at_full_size(
    client: httpx.AsyncClient, factory: SessionFactory, sideways_12mp: bytes
) -> None:
    await configure_slot(
        factory, "slot-001", provider="local", operation="stylize", settings={"style": "pencil"}
    )
    response = await post(client, sideways_12mp)
    assert response.status_code == 200, response.text
    with Image.open(io.BytesIO(response.content)) as result:
        assert result.size == (3000, 4000)  # the photo's own size, upright
    job = await the_job(factory, response.headers["x-job-id"])
    assert (job.sent_size, job.sent_width, job.sent_height) == (None, None, None)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
async def test_no_result_preview_or_zip_carries_the_guests_metadata(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    factory: SessionFactory,
    fmt: str,
) -> None:
    """`echo` answers with the very file it got: whatever carried the metadata
    in, it must not come out anywhere."""
    await configure_slot(factory, "slot-001", **echo())
    photo = guest_photo(fmt, orientation=8)
    assert len(leaks(photo)) >= 3

    response = await post(client, photo)

    assert response.status_code == 200, response.text
    assert leaks(response.content) == []
    assert Image.open(io.BytesIO(response.content)).format == fmt
    assert mark_corner(response.content) == "bottom-left"  # orientation 8, applied
    job_id = response.headers["x-job-id"]
    public = await client.get(f"/public/results/{job_id}")
    assert public.content == response.content
    preview = await client.get(f"/public/results/{job_id}/preview.webp")
    assert preview.status_code == 200
    assert leaks(preview.content) == []
    assert (await admin_client.post("/api/gallery/share")).status_code == 200
    archive = await client.get("/pub/gallery.zip")
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
        (name,) = zipped.namelist()
        assert zipped.read(name) == response.content


async def test_keep_metadata_keeps_the_file_as_it_came(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", keep_metadata=True, **echo())
    photo = guest_photo("JPEG", orientation=6)
    response = await post(client, photo)
    assert response.status_code == 200, response.text
    assert response.content == photo


async def test_template_images_are_downscaled_too(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    factory: SessionFactory,
    gemini_fake: GeminiFake,
) -> None:
    await put_setting(factory, "gemini_api_key", gemini.API_KEY)
    template = guest_photo("PNG", (3000, 2000), orientation=1)
    uploaded = await admin_client.post(
        "/api/template-media",
        data={"role": "background", "slot_id": "slot-001"},
        files={"file": ("beach.png", template, "image/png")},
    )
    assert uploaded.status_code == 201, uploaded.text
    saved = await admin_client.put(
        "/api/slots/slot-001",
        json={
            "provider": "gemini",
            "operation": "edit",
            "settings": {"prompt": "On this beach."},
            "max_input_megapixels": 1.5,
            "template_media": {"background": uploaded.json()["id"]},
        },
    )
    assert saved.status_code == 200, saved.text
    photo = guest_photo("JPEG", (800, 600))
    response = await post(client, photo)
    assert response.status_code == 200, response.text

    photo_part, template_part = json.loads(gemini_fake.last.body)["contents"][0]["parts"][:2]
    sent_photo = base64.b64decode(photo_part["inline_data"]["data"])
    assert Image.open(io.BytesIO(sent_photo)).size == (800, 600)  # under the limit: not scaled
    assert leaks(sent_photo) == []
    sent_template = base64.b64decode(template_part["inline_data"]["data"])
    with Image.open(io.BytesIO(sent_template)) as image:
        assert image.width * image.height <= 1_500_000
        assert image.size[0] > image.size[1]
    assert leaks(sent_template) == []
