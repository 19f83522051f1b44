"""Template media (SPEC §6.3): uploads checked by their bytes and refused past the
cap while reading, bound to a slot by saving it (merge by role), deletable only
when unused, and sent to the provider by the ingest."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from fakes import gemini
from fakes.gemini import GeminiFake
from photochanger.config import Settings
from photochanger.models import MediaObject
from support import (
    SessionFactory,
    assert_error,
    booth_fields,
    make_image,
    multipart_body,
    noise_jpeg,
    put_setting,
)


@pytest.fixture
def config(config: Settings, gemini_server: GeminiFake) -> Settings:
    return config.model_copy(update={"provider_base_urls": {"gemini": gemini_server.base_url}})


async def upload(
    admin: httpx.AsyncClient,
    data: bytes,
    *,
    role: str = "background",
    slot: str = "slot-001",
    content_type: str = "image/jpeg",
) -> httpx.Response:
    return await admin.post(
        "/api/template-media",
        data={"role": role, "slot_id": slot},
        files={"file": ("beach.jpg", data, content_type)},
    )


async def uploaded(admin: httpx.AsyncClient, seed: int, **options: Any) -> dict[str, Any]:
    response = await upload(admin, make_image("PNG", (96, 64), seed=seed), **options)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def bind(admin: httpx.AsyncClient, roles: dict[str, str | None]) -> httpx.Response:
    return await admin.put("/api/slots/slot-001", json={"template_media": roles})


def stored(config: Settings, pattern: str) -> list[Path]:
    return list(Path(config.resolved_media_root).glob(pattern))


def roles_of(slot: dict[str, Any]) -> dict[str, str]:
    return {item["role"]: item["id"] for item in slot["template_media"]}


async def test_an_upload_is_stored_and_served_but_unused_until_saved(
    admin_client: httpx.AsyncClient, config: Settings, factory: SessionFactory
) -> None:
    image = make_image("PNG", (96, 64), seed=11)
    response = await upload(admin_client, image, content_type="application/octet-stream")
    assert response.status_code == 201, response.text
    media = response.json()
    assert (media["role"], media["mime"], media["size"]) == ("background", "image/png", len(image))
    assert (media["uploaded_for"], media["used_by"], media["filename"]) == (
        "slot-001",
        None,
        "beach.jpg",
    )
    served = await admin_client.get(media["file_url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert served.content == image

    async with factory() as session:
        row = (await session.scalars(select(MediaObject))).one()
    assert (row.kind, row.slot_id, row.expires_at) == ("template", "slot-001", None)
    assert row.key == f"templates/slot-001/{media['id']}.png"
    assert (config.resolved_media_root / row.key).read_bytes() == image

    listed = (await admin_client.get("/api/template-media", params={"slot_id": "slot-001"})).json()
    assert [item["id"] for item in listed["template_media"]] == [media["id"]]
    other = (await admin_client.get("/api/template-media", params={"slot_id": "slot-002"})).json()
    assert other["template_media"] == []
    for not_a_slot in ("\x00slot-001", "../slot-001"):
        response = await admin_client.get("/api/template-media", params={"slot_id": not_a_slot})
        assert_error(response, 422, "validation_error")
    assert (await admin_client.get("/api/slots/slot-001")).json()["template_media"] == []


async def test_a_pdf_disguised_as_jpeg_is_415(admin_client: httpx.AsyncClient) -> None:
    pdf = b"%PDF-1.7\n" + b"0" * 2000
    assert_error(await upload(admin_client, pdf), 415, "unsupported_media_type")
    broken = b"\xff\xd8\xff\xe0" + b"\x00" * 500  # JPEG magic, unreadable header
    assert_error(await upload(admin_client, broken), 415, "unsupported_media_type")


async def test_over_20_mb_is_413_while_reading(
    admin_client: httpx.AsyncClient, config: Settings
) -> None:
    big = noise_jpeg(21 * 1024 * 1024)
    assert len(big) > 20 * 1024 * 1024
    body, content_type = multipart_body(
        {"role": "background", "slot_id": "slot-001"}, {"file": ("big.jpg", big, "image/jpeg")}
    )

    async def trickle() -> Any:
        for start in range(0, len(body), 1024 * 1024):
            yield body[start : start + 1024 * 1024]

    # No Content-Length: the limit must hold while reading the stream.
    response = await admin_client.post(
        "/api/template-media", content=trickle(), headers={"Content-Type": content_type}
    )
    assert_error(response, 413, "payload_too_large")
    assert not stored(config, "templates/**/*.jpg")


async def test_role_and_slot_are_checked(admin_client: httpx.AsyncClient) -> None:
    image = make_image("JPEG", (64, 64), seed=12)
    body = assert_error(await upload(admin_client, image, role="logo"), 422, "validation_error")
    assert [error["field"] for error in body["errors"]] == ["role"]  # type: ignore[union-attr]
    assert_error(await upload(admin_client, image, slot="slot-016"), 404, "slot_not_found")
    missing = await admin_client.post(
        "/api/template-media", data={"role": "style", "slot_id": "slot-001"}, files={"x": b"1"}
    )
    assert_error(missing, 400, "invalid_request")


async def test_saving_merges_by_role(admin_client: httpx.AsyncClient) -> None:
    background = await uploaded(admin_client, 21)
    style = await uploaded(admin_client, 22, role="style")
    saved = await bind(admin_client, {"background": background["id"], "style": style["id"]})
    assert saved.status_code == 200, saved.text
    assert roles_of(saved.json()) == {"background": background["id"], "style": style["id"]}

    # A save that does not name a role keeps its image.
    kept = await admin_client.put("/api/slots/slot-001", json={"name": "Renamed"})
    assert roles_of(kept.json()) == {"background": background["id"], "style": style["id"]}

    # An id replaces the role's image; the old one becomes unused.
    newer = await uploaded(admin_client, 23)
    replaced = await bind(admin_client, {"background": newer["id"]})
    assert roles_of(replaced.json()) == {"background": newer["id"], "style": style["id"]}
    listed = (await admin_client.get("/api/template-media")).json()["template_media"]
    used_by = {item["id"]: item["used_by"] for item in listed}
    assert used_by == {background["id"]: None, style["id"]: "slot-001", newer["id"]: "slot-001"}

    # null removes the role.
    removed = await bind(admin_client, {"style": None})
    assert roles_of(removed.json()) == {"background": newer["id"]}


async def test_a_slot_names_only_its_own_templates_under_their_role(
    admin_client: httpx.AsyncClient,
) -> None:
    elsewhere = await uploaded(admin_client, 31, slot="slot-002")
    style = await uploaded(admin_client, 32, role="style")
    response = await bind(
        admin_client,
        {"background": elsewhere["id"], "face": style["id"], "body": "no-such-id"},
    )
    body = assert_error(response, 422, "validation_error")
    fields = {error["field"] for error in body["errors"]}  # type: ignore[union-attr]
    assert fields == {"template_media.background", "template_media.face", "template_media.body"}
    unknown_role = assert_error(
        await bind(admin_client, {"logo": style["id"]}), 422, "validation_error"
    )
    assert [e["field"] for e in unknown_role["errors"]] == ["template_media.logo"]  # type: ignore[union-attr]
    assert (await admin_client.get("/api/slots/slot-001")).json()["version"] == 1


async def test_media_in_use_cannot_be_deleted_and_unused_media_can(
    admin_client: httpx.AsyncClient, config: Settings, factory: SessionFactory
) -> None:
    media = await uploaded(admin_client, 41)
    await bind(admin_client, {"background": media["id"]})
    assert_error(
        await admin_client.delete(f"/api/template-media/{media['id']}"), 409, "media_in_use"
    )
    assert (await admin_client.get(media["file_url"])).status_code == 200

    await bind(admin_client, {"background": None})
    assert (await admin_client.delete(f"/api/template-media/{media['id']}")).status_code == 204
    assert not stored(config, f"templates/slot-001/{media['id']}.*")
    assert_error(await admin_client.get(media["file_url"]), 404, "media_not_found")
    again = await admin_client.delete(f"/api/template-media/{media['id']}")
    assert_error(again, 404, "media_not_found")
    async with factory() as session:
        row = (await session.scalars(select(MediaObject))).one()
    assert row.cleaned_at is not None
    # A deleted template can no longer be named by a save.
    assert_error(await bind(admin_client, {"background": media["id"]}), 422, "validation_error")


async def test_the_ingest_sends_the_slots_template_to_gemini(
    admin_client: httpx.AsyncClient,
    client: httpx.AsyncClient,
    factory: SessionFactory,
    gemini_fake: GeminiFake,
) -> None:
    await put_setting(factory, "gemini_api_key", gemini.API_KEY)
    old = await uploaded(admin_client, 51)
    new = await uploaded(admin_client, 52)
    slot = {"provider": "gemini", "operation": "edit", "settings": {"prompt": "Beach."}}
    assert (await admin_client.put("/api/slots/slot-001", json=slot)).status_code == 200
    await bind(admin_client, {"background": old["id"]})
    await bind(admin_client, {"background": new["id"]})  # replaced: only the new one is sent

    photo = make_image("JPEG", (320, 240), seed=53)
    response = await client.post(
        "/api/ingest/slot-001",
        data=booth_fields(),
        files={"fileToUpload": ("IMG.jpg", photo, "image/jpeg")},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    parts = gemini_fake.received[-1].json()["contents"][0]["parts"]
    images = [
        base64.b64decode(part["inline_data"]["data"]) for part in parts if "inline_data" in part
    ]
    assert len(images) == 2
    assert images[1] == make_image("PNG", (96, 64), seed=52)
    assert parts[-1] == {"text": "Beach."}
