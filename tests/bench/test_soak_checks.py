"""The soak's checks (bench/soak_checks.py) catch what they are for: on a prepared
database and media directory they find the pending job, the done job whose
result has no row, the file no row names, the row whose file is gone, the file
of a cleaned row, a store temp file and a spool leftover; in a log, the secret
that leaked and not the one that did not. A soak that passes is only as good as
these."""

from __future__ import annotations

import importlib.util
import sys
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest

from photochanger.models import Job, MediaObject
from photochanger.models.base import utcnow
from support import SessionFactory, pending_job

SOAK_CHECKS = Path(__file__).resolve().parents[2] / "bench" / "soak_checks.py"


@pytest.fixture(scope="module")
def checks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_soak_checks", SOAK_CHECKS)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def done_job(job_id: str, result_key: str) -> Job:
    job = pending_job(job_id)
    job.status = "done"
    job.finished_at = job.started_at + timedelta(seconds=2)
    job.duration_ms = 2000
    job.result_key = result_key
    return job


def media_row(key: str, job_id: str | None, *, cleaned: bool = False) -> MediaObject:
    return MediaObject(
        id=key.replace("/", "-")[-32:],
        kind="result",
        key=key,
        size=3,
        mime="image/jpeg",
        job_id=job_id,
        slot_id="slot-001",
        cleaned_at=utcnow() if cleaned else None,
    )


async def test_checks_find_every_leftover(
    checks: ModuleType, database_url: str, session_factory: SessionFactory, tmp_path: Path
) -> None:
    media, spool = tmp_path / "media", tmp_path / "spool"
    for key in ("results/kept.jpg", "results/orphan.jpg", "results/cleaned.jpg", ".tmp/a.part"):
        (media / key).parent.mkdir(parents=True, exist_ok=True)
        (media / key).write_bytes(b"jpg")
    spool.mkdir()
    (spool / "upload-1.tmp").write_bytes(b"half a photo")
    async with session_factory() as session:
        session.add_all(
            [
                pending_job("still-pending"),
                done_job("done-kept", "results/kept.jpg"),
                done_job("done-lost", "results/lost.jpg"),
                done_job("done-no-row", "results/never-stored.jpg"),
            ]
        )
        await session.flush()
        session.add_all(
            [
                media_row("results/kept.jpg", "done-kept"),
                media_row("results/lost.jpg", "done-lost"),
                media_row("results/cleaned.jpg", None, cleaned=True),
            ]
        )
        await session.commit()

    state = await checks.read_database(database_url)
    report = checks.media_report(media, state.media)

    assert state.pending == 1
    assert state.jobs_by_status == {"pending": 1, "done": 3}
    assert state.unfinished == []
    assert state.results_without_row == ["done-no-row"]
    assert report.files_without_row == ["results/cleaned.jpg", "results/orphan.jpg"]
    assert report.rows_without_file == ["results/lost.jpg"]
    assert report.temp_files == [".tmp/a.part"]
    assert report.orphans == 4
    assert checks.spool_leftovers(spool) == ["upload-1.tmp"]


def test_clean_state_passes(checks: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "media" / ".tmp").mkdir(parents=True)  # the store's own, empty
    (tmp_path / "media" / "results").mkdir()
    (tmp_path / "media" / "results" / "a.jpg").write_bytes(b"jpg")
    rows = [checks.MediaRow("results/a.jpg", "result", cleaned=False)]

    assert checks.media_report(tmp_path / "media", rows).orphans == 0
    assert checks.spool_leftovers(tmp_path / "spool") == []


def test_secret_scan_names_the_leaked_secret(checks: ModuleType) -> None:
    log = (
        '{"event": "login_failed", "username": "soak-admin", "ip": "127.0.0.1"}\n'
        '{"event": "provider_call", "error": "API key AIzaSy-leaked-key-0123 is not allowed"}\n'
        '{"event": "provider_call", "error": "API key *** is not allowed"}\n'
    )
    secrets = {
        "gemini key": "AIzaSy-leaked-key-0123",
        "openai key": "sk-proj-never-logged-456",
        "admin password": "soak-admin-password",
        "unset": "",
    }

    assert checks.leaked_secrets(log, secrets) == ["gemini key"]
