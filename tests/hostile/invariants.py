"""What must hold after any hostile request: the answer is a documented one in
SPEC §3.2's shape, no job stays `pending`, and no file is left in the spool or
the media directory that a finished job does not own."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from sqlalchemy import func, select

from hostile.corpus import Answer
from photochanger.config import Settings
from photochanger.media.store import READY_PROBE_KEY
from photochanger.models import Job, MediaObject
from support import SessionFactory

REASONS = {
    400: {"invalid_request"},
    401: {"invalid_password"},
    404: {"slot_not_found", "slot_disabled"},
    413: {"payload_too_large"},
    415: {"unsupported_media_type"},
    429: {"rate_limited"},
    502: {"provider_error"},
    503: {"provider_unavailable"},
    504: {"provider_timeout"},
}
"""SPEC §3.2 without its 500: the statuses a hostile request may get, and the
`failure_reason`s each may carry."""
IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp"}


def check_answer(answer: Answer, status: int, failure_reason: str | None) -> None:
    """The expected status, and the body SPEC §3.2 (an error) or §3.3 (a photo) gives it."""
    assert answer.status == status, (answer.status, answer.body[:300])
    if status == 200:
        assert answer.headers["content-type"] in IMAGE_TYPES
        assert answer.headers["cache-control"] == "no-store"
        return
    check_error_shape(answer)
    assert json.loads(answer.body)["failure_reason"] == failure_reason


def check_error_shape(answer: Answer) -> None:
    """A documented error status with the JSON SPEC §3.2 gives every error."""
    assert answer.status in REASONS, (answer.status, answer.body[:300])
    assert answer.headers["content-type"] == "application/json", answer.headers
    body = json.loads(answer.body)
    assert set(body) <= {"status", "failure_reason", "details", "retry_after"}, body
    assert body["failure_reason"] in REASONS[answer.status], body
    assert body["status"] == ("timeout" if answer.status == 504 else "error")
    assert isinstance(body["details"], str)
    assert body["details"]
    assert len(body["details"]) < 300
    assert "Traceback" not in body["details"]


async def pending_jobs(factory: SessionFactory) -> int:
    async with factory() as session:
        query = select(func.count()).select_from(Job).where(Job.status == "pending")
        return int(await session.scalar(query) or 0)


def spooled_files(config: Settings) -> list[str]:
    return sorted(entry.name for entry in os.scandir(config.resolved_spool_dir))


def _media_files(root: Path) -> set[str]:
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and path != root / READY_PROBE_KEY
    }


async def stray_media(factory: SessionFactory, config: Settings) -> list[str]:
    """Files in the media directory that no done job's media row names."""
    on_disk = await asyncio.to_thread(_media_files, config.resolved_media_root)
    async with factory() as session:
        owned = set(
            await session.scalars(
                select(MediaObject.key)
                .join(Job, Job.id == MediaObject.job_id)
                .where(Job.status == "done", MediaObject.cleaned_at.is_(None))
            )
        )
    return sorted(on_disk - owned)


async def check_nothing_left(
    factory: SessionFactory, config: Settings, *, settle: float = 0
) -> None:
    """No pending job, no spooled upload, no stray media. With `settle`, wait
    up to that many seconds for them to go (a server may still be cleaning up
    after a client that went away), then check."""
    for _ in range(int(settle * 10)):
        if not (await pending_jobs(factory) or spooled_files(config)):
            break
        await asyncio.sleep(0.1)
    assert await pending_jobs(factory) == 0
    assert spooled_files(config) == []
    assert await stray_media(factory, config) == []
