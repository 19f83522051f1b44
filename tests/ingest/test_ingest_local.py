"""A fresh install does the studio's real job through the ingest: the guests
kept, the background replaced (SPEC §4.2), with a slot's template as backdrop."""

from __future__ import annotations

import io
import secrets

import httpx
import numpy as np
from PIL import Image
from skimage import data as skimage_data

from photochanger.config import Settings
from photochanger.models import MediaObject, TemplateMedia
from support import SessionFactory, booth_fields, configure_slot

# The astronaut's face in skimage's 512×512 portrait, and a background corner.
FACE = (slice(85, 150), slice(190, 250))
CORNER = (slice(0, 80), slice(0, 60))


def astronaut_jpeg() -> bytes:
    out = io.BytesIO()
    Image.fromarray(skimage_data.astronaut()).save(out, "JPEG", quality=95)
    return out.getvalue()


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(np.float32)


async def ingest(client: httpx.AsyncClient, slot: str, photo: bytes) -> httpx.Response:
    response = await client.post(
        f"/api/ingest/{slot}",
        data=booth_fields(),
        files={"fileToUpload": ("guest.jpg", photo, "image/jpeg")},
    )
    assert response.status_code == 200, response.text
    return response


async def add_template(
    factory: SessionFactory, config: Settings, slot_id: str, role: str, image: bytes
) -> None:
    key = f"templates/{slot_id}/{secrets.token_hex(6)}.png"
    path = config.resolved_media_root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image)
    async with factory() as session, session.begin():
        media = MediaObject(
            id=secrets.token_hex(8),
            kind="template",
            key=key,
            size=len(image),
            mime="image/png",
            slot_id=slot_id,
        )
        session.add(media)
        await session.flush()
        session.add(
            TemplateMedia(
                id=secrets.token_hex(8), slot_id=slot_id, role=role, media_object_id=media.id
            )
        )


async def test_slot_001_puts_the_guest_on_the_studio_backdrop(client: httpx.AsyncClient) -> None:
    photo = astronaut_jpeg()
    result = decode((await ingest(client, "slot-001", photo)).content)
    original = decode(photo)
    assert result.shape == original.shape
    face_change = np.abs(result[FACE] - original[FACE]).mean()
    corner_change = np.abs(result[CORNER] - original[CORNER]).mean()
    assert face_change < 12, "the guest's face must be kept"
    assert corner_change > 3 * face_change, "the background must be replaced"


async def test_slot_002_blurs_the_background(client: httpx.AsyncClient) -> None:
    photo = astronaut_jpeg()
    result = decode((await ingest(client, "slot-002", photo)).content)
    original = decode(photo)

    def sharpness(image: np.ndarray) -> float:
        grey = image.mean(axis=2)
        return float(np.abs(np.diff(grey, axis=1)).mean())

    background = (slice(0, 250), slice(400, 512))  # the shuttle behind her
    assert sharpness(result[background]) < 0.7 * sharpness(original[background])
    assert np.abs(result[FACE] - original[FACE]).mean() < 12


async def test_slot_003_draws_a_cartoon(client: httpx.AsyncClient) -> None:
    photo = astronaut_jpeg()
    result = decode((await ingest(client, "slot-003", photo)).content)
    assert result.shape == decode(photo).shape
    assert np.abs(result - decode(photo)).mean() > 3


async def test_template_background_replaces_the_scene(
    client: httpx.AsyncClient, factory: SessionFactory, config: Settings
) -> None:
    backdrop = Image.new("RGB", (900, 600), (20, 160, 60))  # a green lawn
    out = io.BytesIO()
    backdrop.save(out, "PNG")
    await add_template(factory, config, "slot-007", "background", out.getvalue())
    await configure_slot(
        factory,
        "slot-007",
        provider="local",
        operation="background_replace",
        settings={"background": "template"},
    )
    photo = astronaut_jpeg()
    result = decode((await ingest(client, "slot-007", photo)).content)
    corner = result[CORNER].reshape(-1, 3).mean(axis=0)
    assert np.abs(corner - np.array([20, 160, 60])).max() < 30, corner
    assert np.abs(result[FACE] - decode(photo)[FACE]).mean() < 12
