"""The `local` driver's worker processes: the image libraries stay out of the
server process, and a worker that dies costs no photo."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
from sqlalchemy import select

from photochanger.config import Settings
from photochanger.db import SessionFactory
from photochanger.models import Job
from photochanger.providers.local import driver
from support import booth_fields, configure_slot, make_image


def test_the_server_process_never_imports_the_image_libraries() -> None:
    code = (
        "import sys; import photochanger.app, photochanger.providers.registry; "
        "print(sorted({'cv2', 'numpy', 'mediapipe'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


async def test_a_worker_that_dies_costs_no_photo(
    client: httpx.AsyncClient, factory: SessionFactory, config: Settings
) -> None:
    await configure_slot(
        factory, "slot-003", provider="local", operation="stylize", settings={"style": "pencil"}
    )
    pool = driver._pools[config.local_workers]
    for pid in list(pool._processes):  # what an out-of-memory kill does
        os.kill(pid, signal.SIGKILL)

    response = await client.post(
        "/api/ingest/slot-003",
        data=booth_fields(),
        files={"fileToUpload": ("a.jpg", make_image(seed=7), "image/jpeg")},
    )
    assert response.status_code == 200, response.text
    async with factory() as session:
        job = (
            await session.scalars(select(Job).where(Job.id == response.headers["x-job-id"]))
        ).one()
    first, second = job.attempts
    assert first["outcome"] == "transient"
    assert "worker stopped" in first["error"]
    assert second["outcome"] == "ok"
    assert driver._pools[config.local_workers] is not pool
