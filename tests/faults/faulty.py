"""What the fault tests share: the booth's post, waiting for a job, and what the
media directory holds."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from photochanger.media.store import READY_PROBE_KEY
from photochanger.models import Job
from support import SessionFactory, booth_fields, make_image

PHOTO = make_image("JPEG", (320, 240), seed=5)
WINDOW_SECONDS = 10
"""The shortest sync window there is (SPEC §2): a fault that lasts past it costs
a test this long."""
MARGIN_SECONDS = 5.0
"""How late past the window an answer may still come: generous, so a loaded
machine does not fail the test, and far below what an unbounded wait took."""


async def post(
    client: httpx.AsyncClient, photo: bytes = PHOTO, slot: str = "slot-001"
) -> httpx.Response:
    return await client.post(
        f"/api/ingest/{slot}",
        data=booth_fields(),
        files={"fileToUpload": ("IMG_0001.jpg", photo, "image/jpeg")},
        timeout=120,
    )


async def timed_post(
    client: httpx.AsyncClient, photo: bytes = PHOTO
) -> tuple[httpx.Response, float]:
    """The answer, and how many seconds it took."""
    started = time.monotonic()
    response = await post(client, photo)
    return response, time.monotonic() - started


async def pending_job(factory: SessionFactory, within: float = 30.0) -> str:
    """The id of the first job seen `pending`."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with factory() as session:
            found = await session.scalar(select(Job.id).where(Job.status == "pending"))
        if found is not None:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError("no job became pending")


async def finished_job(factory: SessionFactory, job_id: str, within: float = 30.0) -> Job:
    """The job once it is no longer `pending` (it may be closed in the background)."""
    deadline = time.monotonic() + within
    while True:
        async with factory() as session:
            job = await session.get(Job, job_id)
        assert job is not None
        if job.status != "pending":
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} is still pending after {within:.0f} s")
        await asyncio.sleep(0.1)


async def only_job(factory: SessionFactory) -> Job:
    async with factory() as session:
        return (await session.scalars(select(Job))).one()


def files_under(root: Path) -> list[str]:
    """Every file under `root` (relative paths), but the store's readiness probe."""
    found = []
    for directory, _subdirectories, names in os.walk(root):
        for name in names:
            relative = (Path(directory) / name).relative_to(root).as_posix()
            if relative != READY_PROBE_KEY:
                found.append(relative)
    return sorted(found)
