"""Test helpers: images made by code, slot configuration, multipart bodies, the CLI."""

from __future__ import annotations

import asyncio
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import Connection, insert, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from photochanger.db import Database
from photochanger.deadline import Deadline
from photochanger.media.repository import MediaRepository
from photochanger.media.store import LocalMediaStore
from photochanger.models import Job, Setting, Slot
from photochanger.models.base import utcnow
from photochanger.providers.base import InputImage, JobContext, OperationSettings, TemplateImage

SessionFactory = async_sessionmaker[AsyncSession]
"""ORM sessions for tests that arrange or inspect rows directly; the app runs
its own SQL through `Database`."""

INGEST_PASSWORD = "booth-secret"
ADMIN_USERNAME = "studio"
ADMIN_PASSWORD = "studio-admin-password"


def make_image(fmt: str = "JPEG", size: tuple[int, int] = (640, 480), seed: int = 0) -> bytes:
    """A photo-like image: smooth gradients plus texture, so filters have work to do."""
    rng = np.random.default_rng(seed)
    width, height = size
    x = np.broadcast_to(np.linspace(0, 1, width)[None, :, None], (height, width, 1))
    y = np.broadcast_to(np.linspace(0, 1, height)[:, None, None], (height, width, 1))
    base = np.concatenate([x * 200 + 30, y * 180 + 40, (1 - x) * 160 + 50], axis=2)
    base = base + rng.normal(0, 12, (height, width, 3))
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    out = io.BytesIO()
    image.save(out, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return out.getvalue()


def noise_jpeg(target_bytes: int) -> bytes:
    """A valid JPEG of roughly `target_bytes` (noise compresses badly)."""
    side = int((target_bytes / 1.2) ** 0.5)
    rng = np.random.default_rng(1)
    image = Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def booth_fields(password: str = INGEST_PASSWORD, **extra: str) -> dict[str, str]:
    """The text fields DSLR Remote Pro sends beside the photo."""
    fields = {
        "password": password,
        "time": "2026-11-24 10:00:00",
        "user_id": "42",
        "id": "IMG_0001",
        "profile": "wedding",
        "status": "ok",
        "name": "IMG_0001.JPG",
        "model": "Canon EOS R6",
        "version": "3.30",
    }
    fields.update(extra)
    return fields


def multipart_body(
    fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]
) -> tuple[bytes, str]:
    """A hand-built multipart body (for requests a normal client would not send)."""
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for name, (filename, data, content_type) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def session_factory_of(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


async def configure_slot(factory: SessionFactory, slot_id: str, **values: Any) -> None:
    """Reconfigure a slot directly in the database (the admin API comes later)."""
    async with factory() as session, session.begin():
        await session.execute(update(Slot).where(Slot.id == slot_id).values(**values))


async def put_setting(factory: SessionFactory, key: str, value: Any) -> None:
    """Change a runtime setting directly in the database, as an admin would."""
    async with factory() as session, session.begin():
        await session.merge(Setting(key=key, value=value, updated_by="test"))


def echo(delay_seconds: float = 0.0, **extra: Any) -> dict[str, Any]:
    return {
        "provider": "echo",
        "operation": "echo",
        "settings": {"delay_seconds": delay_seconds, **extra},
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


TOOL_INSTALL_HINT = "scripts/system-deps.sh installs it (make test runs it)"


def required_tool(name: str, *, hint: str = TOOL_INSTALL_HINT) -> str:
    """The path of the system tool `name` (on PATH, or in /usr/sbin or /sbin,
    where Debian puts nginx). Without it the test is skipped on a developer's
    machine, but fails in CI (`CI` set), where a skip would hide that nothing
    was checked."""
    found = shutil.which(name) or next(
        (str(path) for d in ("/usr/sbin", "/sbin") if (path := Path(d) / name).exists()), None
    )
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed: {hint}")
        pytest.skip(f"{name} is not installed: {hint}")
    return found


def tmp_file_count(directory: os.PathLike[str]) -> int:
    return sum(1 for _ in os.scandir(directory))


def raw_http_request(
    base_url: str,
    path: str,
    headers: dict[str, str],
    body_chunks: Iterable[bytes] = (),
    *,
    wait_for_continue: bool = False,
    timeout: float = 30.0,
) -> tuple[int, dict[str, str], bytes]:
    """Send a request over a plain socket, writing the body from a thread while
    reading the answer, as a booth does. Returns (status, headers, body) of the
    final response; a server that answers early and closes is not an error."""
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    sock.sendall(head.encode() + b"\r\n")
    received = bytearray()

    def read_until_headers() -> bytes:
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received.extend(chunk)
        end = received.find(b"\r\n\r\n")
        status_block = bytes(received[: end + 4])
        del received[: end + 4]
        return status_block

    if wait_for_continue:
        first = read_until_headers()
        if not first.startswith(b"HTTP/1.1 100"):
            return _finish_response(sock, first, received)

    def send_body() -> None:
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except OSError:
            pass  # the server answered and closed; that is the point

    sender = threading.Thread(target=send_body, daemon=True)
    sender.start()
    block = read_until_headers()
    result = _finish_response(sock, block, received)
    sender.join(timeout=timeout)
    return result


def _finish_response(
    sock: socket.socket, block: bytes, received: bytearray
) -> tuple[int, dict[str, str], bytes]:
    lines = block.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = bytearray(received)
    try:
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body.extend(chunk)
    except OSError:
        pass
    sock.close()
    return status, headers, bytes(body)


def pending_job(job_id: str, *, instance_id: str = "test", started_ago: float = 0.0) -> Job:
    """A job row as admission writes it, started `started_ago` seconds ago."""
    started = utcnow() - timedelta(seconds=started_ago)
    return Job(
        id=job_id,
        slot_id="slot-001",
        source="ingest",
        status="pending",
        provider="local",
        operation="stylize",
        instance_id=instance_id,
        started_at=started,
        deadline_at=started + timedelta(seconds=48),
        input_size=1,
        input_mime="image/jpeg",
        input_sha1="0" * 40,
        input_sha256="0" * 64,
        booth_metadata={},
        attempts=[],
    )


def encoded(image: Image.Image | np.ndarray, fmt: str = "PNG", **options: Any) -> bytes:
    """An image (array or Pillow) encoded in `fmt`."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def decoded(data: bytes) -> np.ndarray:
    """Encoded bytes back to an RGB uint8 array."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def job_context(
    settings: OperationSettings,
    photo: bytes,
    *,
    mime: str = "image/jpeg",
    templates: tuple[TemplateImage, ...] = (),
    api_key: str | None = None,
    window_seconds: float = 10.0,
) -> JobContext:
    """What the pipeline hands a driver: the photo, the slot's validated settings
    and templates, the key, and a real deadline."""
    return JobContext(
        job_id="job-test",
        slot_id="slot-001",
        operation="edit",
        settings=settings,
        image=InputImage(mime=mime, size=len(photo), data=photo),
        deadline=Deadline.start(window_seconds),
        templates=templates,
        api_key=api_key,
    )


def assert_error(response: httpx.Response, status: int, reason: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["failure_reason"] == reason
    assert body["status"] == ("timeout" if status == 504 else "error")
    assert isinstance(body["details"], str)
    assert body["details"]
    assert "Traceback" not in response.text
    return body  # type: ignore[no-any-return]


def photochanger(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "photochanger", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        check=False,
    )


async def stored_media(
    database: Database,
    store: LocalMediaStore,
    *,
    kind: str = "result",
    slot_id: str | None = "slot-001",
    expires_in: float | None = -60.0,
    size: int = 1000,
    write_file: bool = True,
) -> MediaRow:
    """A file in the media store with its `media_object` row, expiring
    `expires_in` seconds from now (negative: already expired; None: never)."""
    key = f"{kind}/test/{uuid.uuid4().hex}.bin"
    if write_file:
        await store.put_bytes(key, b"x" * size)
    expires = None if expires_in is None else utcnow() + timedelta(seconds=expires_in)

    def add(connection: Connection) -> str:
        return MediaRepository(connection).add(
            kind=kind, key=key, size=size, mime="image/jpeg", slot_id=slot_id, expires_at=expires
        )

    return MediaRow(await database.write(add), key, store.path_of(key))


@dataclass(frozen=True)
class MediaRow:
    id: str
    key: str
    path: Path


def job_row(
    job_id: str,
    started_at: datetime,
    *,
    status: str = "done",
    duration_ms: int | None = 1000,
    **values: Any,
) -> dict[str, Any]:
    """A job's column values as the ingest leaves them, for bulk inserts of chosen
    rows (`insert(Job)` with a list of these): finished `duration_ms` after its
    start unless `pending`; any column can be overridden."""
    finished = status != "pending"
    row: dict[str, Any] = {
        "id": job_id,
        "slot_id": "slot-001",
        "source": "ingest",
        "status": status,
        "failure_reason": {"timeout": "provider_timeout", "failed": "provider_error"}.get(status),
        "failure_details": None,
        "provider": "local",
        "operation": "stylize",
        "instance_id": "test",
        "started_at": started_at,
        "deadline_at": started_at + timedelta(seconds=48),
        "finished_at": (
            started_at + timedelta(milliseconds=duration_ms or 0) if finished else None
        ),
        "duration_ms": duration_ms if finished else None,
        "input_size": 1000,
        "input_mime": "image/jpeg",
        "input_sha1": "1" * 40,
        "input_sha256": "2" * 64,
        "client_hash_mismatch": False,
        "booth_metadata": {},
        "attempts": [],
    }
    row.update(values)
    return row


async def insert_jobs(factory: SessionFactory, rows: list[dict[str, Any]]) -> None:
    """Many job rows in one statement (executemany)."""
    async with factory() as session, session.begin():
        await session.execute(insert(Job), rows)


async def utc_today() -> datetime:
    """The start of the current UTC day, not about to roll over while a test runs
    (spend and budgets are counted per UTC day)."""
    now = utcnow()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    left = midnight + timedelta(days=1) - now
    if left < timedelta(seconds=30):
        await asyncio.sleep(left.total_seconds() + 0.1)
        midnight += timedelta(days=1)
    return midnight


OPEN_ROUTES = {"/api/ingest/{slot_id}", "/api/login", "/api/logout"}
"""The `/api/` routes that take no admin token."""


async def admin_routes(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    """(method, path) of every admin route, from the OpenAPI document: no API
    route is hidden from it (`include_in_schema=False` is used by pages only)."""
    document = (await client.get("/openapi.json")).json()
    found = []
    for path, operations in document["paths"].items():
        if path.startswith("/api/") and path not in OPEN_ROUTES:
            concrete = re.sub(r"\{[^}]+\}", "slot-001", path)
            found.extend((method.upper(), concrete) for method in operations)
    return found
