"""The three doors of cleanup: the admin routes, the server's periodic task
and `photochanger cleanup` (SPEC §5.3)."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from unittest.mock import patch

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from photochanger.app import create_app
from photochanger.audit.repository import AuditRepository
from photochanger.cleanup.scheduler import PeriodicCleanup, next_run_delay
from photochanger.cli import run_command
from photochanger.config import Settings
from photochanger.db import Database, create_engine
from photochanger.media.store import LocalMediaStore
from photochanger.models import MediaObject
from support import (
    ADMIN_USERNAME,
    MediaRow,
    SessionFactory,
    assert_error,
    photochanger,
    stored_media,
)


@pytest.fixture
def store(config: Settings, database: Database) -> LocalMediaStore:
    return LocalMediaStore(config.resolved_media_root)


async def is_cleaned(factory: SessionFactory, row: MediaRow) -> bool:
    async with factory() as session:
        query = select(MediaObject.cleaned_at).where(MediaObject.id == row.id)
        return (await session.execute(query)).scalar_one() is not None


async def test_an_admin_cleans_everything_or_one_slot_and_gets_the_summary(
    admin_client: httpx.AsyncClient,
    client: httpx.AsyncClient,
    database: Database,
    store: LocalMediaStore,
) -> None:
    await stored_media(database, store, slot_id="slot-001", size=700)
    await stored_media(database, store, slot_id="slot-002", size=300)
    await stored_media(database, store, slot_id="slot-002", kind="preview", size=30)
    assert_error(await client.post("/api/cleanup"), 401, "not_authenticated")
    assert_error(await client.post("/api/slots/slot-002/cleanup"), 401, "not_authenticated")

    one = await admin_client.post("/api/slots/slot-002/cleanup")
    assert one.status_code == 200, one.text
    body = one.json()
    assert body["slot_id"] == "slot-002"
    assert body["removed"] == {
        "result": {"count": 1, "bytes": 300},
        "preview": {"count": 1, "bytes": 30},
        "provider_media": {"count": 0, "bytes": 0},
    }
    assert_error(await admin_client.post("/api/slots/slot-016/cleanup"), 404, "slot_not_found")

    everything = (await admin_client.post("/api/cleanup")).json()
    assert everything["slot_id"] is None
    assert everything["removed"]["result"] == {"count": 1, "bytes": 700}
    assert isinstance(everything["duration_ms"], int)
    audited = await database.read(lambda c: AuditRepository(c).for_target("slot-002"))
    assert [(entry["actor"], entry["action"]) for entry in audited] == [
        (ADMIN_USERNAME, "cleanup.run")
    ]


@pytest.fixture
async def quick_cleanup_app(config: Settings, app: FastAPI) -> AsyncIterator[FastAPI]:
    """A replica whose built-in cleanup runs every 0.2 s."""
    quick = create_app(
        config.model_copy(update={"instance_id": "cleaner", "cleanup_interval_seconds": 0.2})
    )
    async with quick.router.lifespan_context(quick):
        yield quick


async def test_the_server_cleans_by_itself_periodically(
    quick_cleanup_app: FastAPI,
    database: Database,
    store: LocalMediaStore,
    factory: SessionFactory,
) -> None:
    for _ in range(2):  # it keeps running, not only once
        row = await stored_media(database, store)
        deadline = time.monotonic() + 10
        # A run marks its rows in one transaction, then deletes their files:
        # wait for both, so a loaded machine does not catch it in between.
        while not (await is_cleaned(factory, row) and not row.path.exists()):
            assert time.monotonic() < deadline, "the periodic cleanup did not run"
            await asyncio.sleep(0.05)


async def test_the_periodic_task_survives_a_failing_run_and_stops_at_once() -> None:
    calls = 0

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("the disk went away for a moment")

    periodic = PeriodicCleanup(flaky, interval=0.02)
    periodic.start()
    deadline = time.monotonic() + 5
    while calls < 3:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    started = time.monotonic()
    await periodic.stop()
    assert time.monotonic() - started < 0.5
    stopped_at = calls
    await asyncio.sleep(0.1)
    assert calls == stopped_at


def test_runs_are_jittered_and_the_first_waits_for_the_app() -> None:
    firsts = [next_run_delay(900, first=True, fraction=f) for f in (0.0, 0.5, 0.999)]
    assert firsts == sorted(firsts)
    assert firsts[0] >= 30
    assert firsts[-1] <= 60
    later = [next_run_delay(900, first=False, fraction=f) for f in (0.0, 0.999)]
    assert 810 <= later[0] < later[1] <= 990


def test_the_cleanup_command(
    config: Settings,
    app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = LocalMediaStore(config.resolved_media_root)

    async def prepare() -> list[MediaRow]:
        database = Database(create_engine(config.resolved_database_url))
        try:
            return [
                await stored_media(database, store, slot_id="slot-003", size=1234),
                await stored_media(database, store, slot_id="slot-004", size=10),
            ]
        finally:
            await database.dispose()

    third, fourth = asyncio.run(prepare())
    monkeypatch.setenv("PHOTOCHANGER_DATA_DIR", str(config.data_dir))
    monkeypatch.setenv("PHOTOCHANGER_DATABASE_URL", config.resolved_database_url)

    def run(*args: str) -> tuple[int, str, str]:
        with patch("sys.stdin", io.StringIO("")):
            code = run_command(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = run("cleanup", "--slot", "slot-003")
    assert code == 0
    assert "Cleanup of slot slot-003" in out
    assert "result: 1 removed, 1234 bytes" in out
    assert not third.path.exists()
    assert fourth.path.exists()
    code, _, err = run("cleanup", "--slot", "slot-099")
    assert (code, "slot-099" in err) == (1, True)
    code, out, _ = run("cleanup")
    assert code == 0
    assert "result: 1 removed, 10 bytes" in out
    assert not fourth.path.exists()


def test_the_cleanup_command_runs_as_a_program_and_logs_its_summary(tmp_path: Path) -> None:
    env = {"PHOTOCHANGER_DATA_DIR": str(tmp_path / "data")}
    assert photochanger("cleanup", env=env).returncode == 2  # not migrated: a hint
    assert photochanger("migrate", env=env).returncode == 0
    done = photochanger("cleanup", env=env)
    assert done.returncode == 0, done.stderr
    assert "result: 0 removed, 0 bytes" in done.stdout
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    (finished,) = [event for event in events if event["event"] == "cleanup_finished"]
    assert finished["removed"] == {"result": 0, "preview": 0, "provider_media": 0}
    assert {"removed_bytes", "duration_ms", "missing_files"} <= set(finished)
