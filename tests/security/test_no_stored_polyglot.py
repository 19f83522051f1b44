"""SECURITY.md T10: what is stored and served is pixels this service encoded —
an uploaded template, a remote provider's image and the guest's own photo
answered instead are decoded and encoded again, so a file that is also HTML or
script (a polyglot) keeps only its picture; a template that does not decode is
a 415; everything is served with its sniffed type and `nosniff`."""

from __future__ import annotations

import io
import struct
import zlib

import httpx
import numpy as np
import pytest
from PIL import Image

from fakes import gemini
from fakes.gemini import GeminiFake
from photochanger.config import Settings
from photochanger.media.metadata import without_metadata
from support import (
    SessionFactory,
    assert_error,
    booth_fields,
    configure_slot,
    make_image,
    put_setting,
)

PAYLOAD = b"<html><script>alert(document.cookie)</script></html>"


def polyglot(fmt: str, seed: int) -> bytes:
    """An image carrying script where a container-level cleaner keeps bytes — in
    JPEG's JFIF segment, in PNG's suggested-palette chunk — and HTML after its end."""
    data = make_image(fmt, (160, 120), seed=seed)
    if fmt == "JPEG":
        body = b"JFIF\0\x01\x02\x00\x00\x01\x00\x01\x00\x00" + PAYLOAD
        segment = b"\xff\xe0" + struct.pack(">H", len(body) + 2) + body
        hostile = data[:2] + segment + data[2:]
    else:
        body = b"photo\0\x08" + PAYLOAD[: len(PAYLOAD) // 6 * 6]
        chunk = b"sPLT" + body
        packed = struct.pack(">I", len(body)) + chunk + struct.pack(">I", zlib.crc32(chunk))
        end = data.index(b"IDAT") - 4
        hostile = data[:end] + packed + data[end:]
    assert PAYLOAD[:20] in without_metadata(hostile)  # what cleaning alone would keep
    return hostile + PAYLOAD


def assert_clean_picture(data: bytes, like: bytes) -> None:
    assert without_metadata(data) is data  # nothing a container cleaner would drop
    assert b"<script" not in data
    assert b"<html" not in data
    with Image.open(io.BytesIO(data)) as got, Image.open(io.BytesIO(like)) as want:
        assert got.size == want.size
        difference = np.abs(
            np.asarray(got.convert("RGB"), np.int16) - np.asarray(want.convert("RGB"), np.int16)
        )
        assert difference.mean() < 3  # the same picture, encoded again


@pytest.fixture
def config(config: Settings, gemini_server: GeminiFake) -> Settings:
    return config.model_copy(update={"provider_base_urls": {"gemini": gemini_server.base_url}})


@pytest.mark.parametrize(("fmt", "mime"), [("JPEG", "image/jpeg"), ("PNG", "image/png")])
async def test_an_uploaded_template_is_stored_as_its_picture_only(
    admin_client: httpx.AsyncClient, fmt: str, mime: str
) -> None:
    hostile = polyglot(fmt, seed=3)
    answer = await admin_client.post(
        "/api/template-media",
        data={"role": "background", "slot_id": "slot-001"},
        files={"file": ("beach.jpg", hostile, "text/html")},
    )
    assert answer.status_code == 201, answer.text
    served = await admin_client.get(answer.json()["file_url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == mime
    assert served.headers["x-content-type-options"] == "nosniff"
    assert_clean_picture(served.content, hostile)


async def test_a_template_that_does_not_decode_is_refused(
    admin_client: httpx.AsyncClient,
) -> None:
    whole = make_image("JPEG", (640, 480), seed=4)
    answer = await admin_client.post(
        "/api/template-media",
        data={"role": "background", "slot_id": "slot-001"},
        files={"file": ("cut.jpg", whole[: len(whole) // 3], "image/jpeg")},
    )
    assert_error(answer, 415, "unsupported_media_type")


async def test_a_remote_providers_polyglot_is_served_as_its_picture_only(
    client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    await put_setting(factory, "gemini_api_key", gemini.API_KEY)
    await configure_slot(
        factory, "slot-001", provider="gemini", operation="edit", settings={"prompt": "Snow."}
    )
    hostile = polyglot("PNG", seed=5)
    gemini_fake.queue(gemini.success(hostile, "image/png"))
    answer = await client.post(
        "/api/ingest/slot-001",
        data=booth_fields(),
        files={"fileToUpload": ("a.jpg", make_image(seed=6), "image/jpeg")},
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/png"
    assert_clean_picture(answer.content, hostile)
    public = await client.get(answer.headers["x-result-url"].removeprefix("http://booth.test"))
    assert public.content == answer.content
    assert public.headers["x-content-type-options"] == "nosniff"


async def test_the_guests_own_photo_answered_instead_is_its_picture_only(
    client: httpx.AsyncClient, factory: SessionFactory, gemini_fake: GeminiFake
) -> None:
    await put_setting(factory, "gemini_api_key", gemini.API_KEY)
    await configure_slot(
        factory,
        "slot-001",
        provider="gemini",
        operation="edit",
        settings={"prompt": "Snow."},
        on_failure="original",
    )
    gemini_fake.queue(*[gemini.blocked("SAFETY")] * 4)
    hostile = polyglot("JPEG", seed=7)
    answer = await client.post(
        "/api/ingest/slot-001",
        data=booth_fields(),
        files={"fileToUpload": ("a.jpg", hostile, "image/jpeg")},
    )
    assert answer.status_code == 200, answer.text
    assert "x-photochanger-degraded" in answer.headers
    assert answer.headers["content-type"] == "image/jpeg"
    assert_clean_picture(answer.content, hostile)
