"""SPEC §3.3: the booth's happy path, and what the job records."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import httpx
from PIL import Image
from sqlalchemy import select

from photochanger.ingest.answer import result_mime_from_bytes
from photochanger.models import Job, MediaObject
from photochanger.providers.base import ProviderResult
from support import SessionFactory, booth_fields, configure_slot, echo, make_image


async def test_fresh_install_slot_001_edits_a_photo(client: httpx.AsyncClient) -> None:
    photo = make_image("JPEG", (800, 600))
    response = await client.post(
        "/api/ingest/slot-001",
        data=booth_fields(),
        files={"fileToUpload": ("IMG_0001.JPG", photo, "image/jpeg")},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "no-store"
    assert int(response.headers["content-length"]) == len(response.content)
    result = Image.open(io.BytesIO(response.content))
    assert result.format == "JPEG"
    assert result.size == (800, 600)
    assert response.content != photo  # the local provider changed it
    job_id = response.headers["x-job-id"]
    assert response.headers["x-result-url"] == f"http://booth.test/public/results/{job_id}"


async def test_job_records_input_hashes_metadata_and_result(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-002", **echo())
    photo = make_image("PNG", (320, 240))
    sha1 = hashlib.sha1(photo).hexdigest()  # noqa: S324 - the booth's checksum
    response = await client.post(
        "/api/ingest/slot-002",
        data=booth_fields(hash=sha1, extra_field="kept"),
        files={"fileToUpload": ("photo.bin", photo, "application/octet-stream")},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == photo
    async with factory() as session:
        job = await session.get(Job, response.headers["x-job-id"])
        assert job is not None
        assert job.status == "done"
        assert job.source == "ingest"
        assert job.input_size == len(photo)
        assert job.input_mime == "image/png"
        assert job.input_sha1 == sha1
        assert job.input_sha256 == hashlib.sha256(photo).hexdigest()
        assert job.client_hash == sha1
        assert job.client_hash_mismatch is False
        assert job.booth_metadata["model"] == "Canon EOS R6"
        assert job.booth_metadata["extra_field"] == "kept"
        assert "password" not in job.booth_metadata
        assert job.finished_at is not None
        assert job.duration_ms is not None
        assert job.produced_by == "echo"
        assert job.result_mime == "image/png"


async def test_client_hash_mismatch_is_recorded_not_refused(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    response = await client.post(
        "/api/ingest/slot-001",
        data=booth_fields(hash="0" * 40),
        files={"fileToUpload": ("a.jpg", make_image(), "image/jpeg")},
    )
    assert response.status_code == 200
    async with factory() as session:
        job = await session.get(Job, response.headers["x-job-id"])
        assert job is not None
        assert job.client_hash_mismatch is True


async def test_booth_metadata_is_bounded(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    fields = booth_fields(time="x" * 100_000)
    fields.update({f"field{i}": "v" for i in range(100)})
    response = await client.post(
        "/api/ingest/slot-001",
        data=fields,
        files={"fileToUpload": ("a.jpg", make_image(), "image/jpeg")},
    )
    assert response.status_code == 200
    async with factory() as session:
        job = await session.get(Job, response.headers["x-job-id"])
        assert job is not None
        assert len(job.booth_metadata) <= 32
        assert len(job.booth_metadata["time"]) == 1024


async def test_webp_in_webp_out(client: httpx.AsyncClient) -> None:
    photo = make_image("WEBP", (300, 200))
    response = await client.post(
        "/api/ingest/slot-003",
        data=booth_fields(),
        files={"fileToUpload": ("a.webp", photo, "image/webp")},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(response.content)).format == "WEBP"


async def test_result_and_preview_are_stored_with_media_rows(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    response = await client.post(
        "/api/ingest/slot-001",
        data=booth_fields(),
        files={"fileToUpload": ("a.jpg", make_image("JPEG", (1200, 900)), "image/jpeg")},
    )
    assert response.status_code == 200
    job_id = response.headers["x-job-id"]
    download = await client.get(f"/public/results/{job_id}")
    assert download.status_code == 200
    assert download.content == response.content
    assert "attachment" in download.headers["content-disposition"]
    async with factory() as session:
        kinds = await session.scalars(select(MediaObject.kind).where(MediaObject.job_id == job_id))
        assert list(kinds) == ["result"]  # no preview before a gallery asks for one
    preview = await client.get(f"/public/results/{job_id}/preview.webp")
    assert preview.status_code == 200
    again = await client.get(f"/public/results/{job_id}/preview.webp")
    assert again.content == preview.content
    async with factory() as session:
        rows = (
            await session.scalars(select(MediaObject).where(MediaObject.job_id == job_id))
        ).all()
        kinds = {row.kind: row for row in rows}
        assert sorted(row.kind for row in rows) == ["preview", "result"]
        assert kinds["result"].size == len(response.content)
        assert kinds["preview"].mime == "image/webp"
        assert kinds["result"].expires_at is not None
        job = await session.get(Job, job_id)
        assert job is not None
        assert job.preview_key == kinds["preview"].key


async def test_provider_result_type_is_taken_from_its_bytes(tmp_path: Path) -> None:
    """The answer's Content-Type matches the bytes even when a driver mislabels them."""
    png = make_image("PNG", (64, 48))
    assert await result_mime_from_bytes(ProviderResult(mime="image/jpeg", data=png)) == "image/png"
    path = tmp_path / "result"
    path.write_bytes(make_image("WEBP", (64, 48)))
    assert await result_mime_from_bytes(ProviderResult(mime="image/png", path=path)) == "image/webp"
    assert await result_mime_from_bytes(ProviderResult(mime="image/png", data=b"<html>")) is None
