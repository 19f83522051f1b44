"""SPEC §3.2: every error row, through the real app, with its JSON body; and
nothing is lost: no temp file left, no job stuck `pending`."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from photochanger.config import Settings
from photochanger.db import Database, create_engine
from photochanger.ingest.service import IngestService
from photochanger.models import Job
from photochanger.multipart import BUDGETED_MEMORY_BYTES
from support import (
    SessionFactory,
    assert_error,
    booth_fields,
    configure_slot,
    echo,
    make_image,
    multipart_body,
    noise_jpeg,
    put_setting,
    tmp_file_count,
)

PHOTO = make_image("JPEG", (200, 150))


async def post(
    client: httpx.AsyncClient, slot: str = "slot-001", **kwargs: object
) -> httpx.Response:
    kwargs.setdefault("data", booth_fields())
    kwargs.setdefault("files", {"fileToUpload": ("IMG.JPG", PHOTO, "image/jpeg")})
    return await client.post(f"/api/ingest/{slot}", **kwargs)  # type: ignore[arg-type]


async def job_count(factory: SessionFactory, status: str | None = None) -> int:
    async with factory() as session:
        query = select(func.count()).select_from(Job)
        if status:
            query = query.where(Job.status == status)
        return int(await session.scalar(query) or 0)


async def wait_for_pending(factory: SessionFactory) -> None:
    for _ in range(500):
        if await job_count(factory, "pending"):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no job became pending")


# --- 400 invalid_request -------------------------------------------------------


async def test_not_multipart(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/ingest/slot-001", json={"password": "x"})
    assert_error(response, 400, "invalid_request")


async def test_multipart_without_boundary(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/ingest/slot-001", content=b"abc", headers={"content-type": "multipart/form-data"}
    )
    assert_error(response, 400, "invalid_request")


async def test_broken_multipart_body(client: httpx.AsyncClient) -> None:
    body, content_type = multipart_body(
        booth_fields(), {"fileToUpload": ("a.jpg", PHOTO, "image/jpeg")}
    )
    response = await client.post(
        "/api/ingest/slot-001",
        content=body[: len(body) // 2],  # truncated mid-file
        headers={"content-type": content_type},
    )
    assert_error(response, 400, "invalid_request")


async def test_garbage_body(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/ingest/slot-001",
        content=b"\x00" * 5000,
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    assert_error(response, 400, "invalid_request")


async def test_missing_file(client: httpx.AsyncClient) -> None:
    response = await post(client, files={"other": ("a.jpg", PHOTO, "image/jpeg")})
    assert_error(response, 400, "invalid_request")


async def test_missing_password(client: httpx.AsyncClient) -> None:
    fields = booth_fields()
    del fields["password"]
    response = await post(client, data=fields)
    assert_error(response, 400, "invalid_request")


async def test_empty_file(client: httpx.AsyncClient) -> None:
    response = await post(client, files={"fileToUpload": ("a.jpg", b"", "image/jpeg")})
    assert_error(response, 400, "invalid_request")


# --- 401, 404 -------------------------------------------------------------------


async def test_wrong_password(client: httpx.AsyncClient, factory: SessionFactory) -> None:
    response = await post(client, data=booth_fields(password="guess"))
    assert_error(response, 401, "invalid_password")
    assert await job_count(factory) == 0


async def test_changed_password_applies_to_next_ingest(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await put_setting(factory, "ingest_password", "new-one")
    assert_error(await post(client), 401, "invalid_password")
    response = await post(client, data=booth_fields(password="new-one"))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "slot",
    ["slot-016", "slot-000", "slot-1", "SLOT-001", "..%2Fslot-001", "slot-001%00", "x" * 300],
)
async def test_unknown_slot(client: httpx.AsyncClient, slot: str) -> None:
    response = await post(client, slot=slot)
    body = assert_error(response, 404, "slot_not_found")
    assert len(str(body["details"])) < 100


async def test_disabled_slot(client: httpx.AsyncClient, factory: SessionFactory) -> None:
    await configure_slot(factory, "slot-004", active=False)
    assert_error(await post(client, slot="slot-004"), 404, "slot_disabled")


async def test_password_is_checked_before_slot(client: httpx.AsyncClient) -> None:
    response = await post(client, slot="slot-099", data=booth_fields(password="guess"))
    assert_error(response, 401, "invalid_password")


# --- 413, 415 -------------------------------------------------------------------


async def test_file_over_slot_limit(client: httpx.AsyncClient, factory: SessionFactory) -> None:
    await configure_slot(factory, "slot-001", size_limit_mb=1)
    big = PHOTO + b"\0" * (1024 * 1024)
    body = assert_error(
        await post(client, files={"fileToUpload": ("a.jpg", big, "image/jpeg")}),
        413,
        "payload_too_large",
    )
    assert "1.0 MB" in str(body["details"])


async def test_declared_length_over_cap_is_refused_unread(client: httpx.AsyncClient) -> None:
    async def endless() -> object:
        yield b"--x\r\n"
        raise AssertionError("the body must not be read")

    response = await client.post(
        "/api/ingest/slot-001",
        content=endless(),  # type: ignore[arg-type]
        headers={
            "content-type": "multipart/form-data; boundary=x",
            "content-length": str(25 * 1024 * 1024),
        },
    )
    body = assert_error(response, 413, "payload_too_large")
    assert "25.0 MB" in str(body["details"])
    assert "20.0 MB" in str(body["details"])


async def test_not_an_image(client: httpx.AsyncClient) -> None:
    response = await post(
        client, files={"fileToUpload": ("a.jpg", b"%PDF-1.4 " * 100, "image/jpeg")}
    )
    assert_error(response, 415, "unsupported_media_type")


async def test_content_type_header_cannot_override_bytes(client: httpx.AsyncClient) -> None:
    gif = b"GIF89a" + b"\0" * 200
    response = await post(client, files={"fileToUpload": ("a.jpg", gif, "image/jpeg")})
    assert_error(response, 415, "unsupported_media_type")


async def test_lying_content_type_with_real_png_is_handled_as_png(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(factory, "slot-001", **echo())
    png = make_image("PNG", (64, 64))
    response = await post(client, files={"fileToUpload": ("a.jpg", png, "image/jpeg")})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"


async def test_jpeg_magic_with_garbage_header(client: httpx.AsyncClient) -> None:
    response = await post(
        client, files={"fileToUpload": ("a.jpg", b"\xff\xd8\xff" + b"\x01" * 300, "image/jpeg")}
    )
    assert_error(response, 415, "unsupported_media_type")


# --- 429 ------------------------------------------------------------------------


async def test_full_slot_answers_429_at_once(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await put_setting(factory, "slot_concurrency_limit", 1)
    await configure_slot(factory, "slot-001", **echo(delay_seconds=1.0))
    first = asyncio.create_task(post(client))
    await wait_for_pending(factory)
    other = make_image("JPEG", (200, 150), seed=5)  # not a re-send of the first
    response = await post(client, files={"fileToUpload": ("b.jpg", other, "image/jpeg")})
    body = assert_error(response, 429, "rate_limited")
    assert body["retry_after"] == 2
    assert (await first).status_code == 200


async def test_full_provider_answers_429(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await put_setting(factory, "provider_concurrency_limit", 1)
    await configure_slot(factory, "slot-001", **echo(delay_seconds=1.0))
    await configure_slot(factory, "slot-002", **echo())
    first = asyncio.create_task(post(client))
    await wait_for_pending(factory)
    body = assert_error(await post(client, slot="slot-002"), 429, "rate_limited")
    assert "provider echo" in str(body["details"])
    assert (await first).status_code == 200


# --- 502, 503, 504, 500 -----------------------------------------------------------


async def test_provider_failure(client: httpx.AsyncClient, factory: SessionFactory) -> None:
    await configure_slot(factory, "slot-001", **echo(fail_with="model said no"))
    body = assert_error(await post(client), 502, "provider_error")
    assert body["details"] == "model said no"
    async with factory() as session:
        job = (await session.scalars(select(Job))).one()
        assert (job.status, job.failure_reason) == ("failed", "provider_error")


async def test_provider_not_available(client: httpx.AsyncClient, factory: SessionFactory) -> None:
    await configure_slot(factory, "slot-001", provider="gemini", operation="edit")
    assert_error(await post(client), 503, "provider_unavailable")


async def test_provider_hanging_past_the_window(
    client: httpx.AsyncClient, factory: SessionFactory, config: Settings
) -> None:
    await put_setting(factory, "sync_response_seconds", 10)
    await configure_slot(factory, "slot-001", **echo(delay_seconds=600))
    big = noise_jpeg(5 * 1024 * 1024)  # past what stays in memory: its temp file must go
    assert len(big) > BUDGETED_MEMORY_BYTES
    response = await post(client, files={"fileToUpload": ("a.jpg", big, "image/jpeg")})
    assert_error(response, 504, "provider_timeout")
    async with factory() as session:
        job = (await session.scalars(select(Job))).one()
        assert (job.status, job.failure_reason) == ("timeout", "provider_timeout")
        assert job.duration_ms is not None
        assert 9_900 <= job.duration_ms < 15_000
    assert tmp_file_count(config.resolved_spool_dir) == 0


@pytest.mark.parametrize(
    "url",
    ["postgresql+asyncpg://nobody@127.0.0.1:1/none", "sqlite+aiosqlite:////nonexistent/dir/x.db"],
)
async def test_database_unavailable_is_503(
    client: httpx.AsyncClient, app: FastAPI, url: str
) -> None:
    services = app.state.services
    dead = Database(create_engine(url))
    services.ingest = IngestService(
        database=dead, store=services.store, registry=services.registry, config=services.config
    )
    try:
        assert_error(await post(client), 503, "provider_unavailable")
    finally:
        await dead.dispose()


# --- loses nothing ----------------------------------------------------------------


async def test_errors_leave_no_temp_files_and_no_pending_jobs(
    client: httpx.AsyncClient, factory: SessionFactory, config: Settings
) -> None:
    big = noise_jpeg(5 * 1024 * 1024)  # goes through a temp file
    assert len(big) > BUDGETED_MEMORY_BYTES
    await post(
        client, data=booth_fields(password="no"), files={"fileToUpload": ("a", big, "image/png")}
    )
    await post(client, slot="slot-077", files={"fileToUpload": ("a", big, "image/png")})
    await configure_slot(factory, "slot-001", **echo(fail_with="nope"))
    await post(client, files={"fileToUpload": ("a", big, "image/png")})
    assert tmp_file_count(config.resolved_spool_dir) == 0
    assert await job_count(factory, "pending") == 0


async def test_provider_not_configured_is_503(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(
        factory, "slot-001", **echo(fail_with="no API key", fail_kind="not_configured")
    )
    body = assert_error(await post(client), 503, "provider_unavailable")
    assert body["details"] == "no API key"
    assert await job_count(factory, "failed") == 1


async def test_unexpected_provider_crash_is_500_without_internals(
    client: httpx.AsyncClient, factory: SessionFactory
) -> None:
    await configure_slot(
        factory, "slot-001", **echo(fail_with="secret internals", fail_kind="crash")
    )
    body = assert_error(await post(client), 500, "internal_error")
    assert "secret internals" not in str(body)
    async with factory() as session:
        job = (await session.scalars(select(Job))).one()
        assert (job.status, job.failure_reason) == ("failed", "internal_error")
