"""The `local` driver's worker processes: the image libraries stay out of the
server process, and a worker that dies costs no photo."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from conftest import LiveServer, start_live_server
from photochanger.config import Settings
from photochanger.models import Job
from photochanger.providers.local import driver
from support import SessionFactory, booth_fields, configure_slot, make_image


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


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    pending = [pid]
    while pending:
        parent = pending.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found.add(child)
            pending.append(child)
    return found


def running(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_workers_end_with_the_server(config: Settings, app: object, how: signal.Signals) -> None:
    """However the server ends (uvicorn re-raises SIGTERM after its shutdown, so no
    exit handler runs; SIGKILL runs nothing), its forkserver and workers go too."""
    server: LiveServer = start_live_server(config)
    try:
        children = descendants(server.process.pid)
        assert len(children) >= 3  # the forkserver and the two local workers, at least
        server.process.send_signal(how)
        server.process.wait(timeout=30)
        deadline = time.monotonic() + 10
        while running(children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert running(children) == set()
    finally:
        server.stop()
