"""Whether a public result link still shows something: the one rule behind the
result's preview, the guest page and its QR code (SPEC §5.2, §10)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from photochanger.db import Database
from photochanger.errors import ResultExpired, ResultNotFound
from photochanger.media.repository import MediaRepository
from photochanger.media.store import MediaStore
from photochanger.models.base import utcnow

MAX_JOB_ID_LENGTH = 64
"""Ours are 24 characters; anything far longer is not worth a query."""


async def live_result(database: Database, store: MediaStore, job_id: str) -> Row[Any]:
    """The job's result columns when it is done and its result still kept. 404
    `result_not_found` for an unknown or unfinished job, 410 `result_expired`
    past `result_expires_at` or once the file is gone. Only reads: removing an
    expired file is the result link's and cleanup's business."""
    if len(job_id) > MAX_JOB_ID_LENGTH:
        raise ResultNotFound("no such result")
    job = await database.read(lambda connection: MediaRepository(connection).result_of(job_id))
    if job is None or job.status != "done" or job.result_key is None:
        raise ResultNotFound("no such result")
    if job.result_expires_at is not None and job.result_expires_at <= utcnow():
        raise ResultExpired("this result has expired")
    if not await store.exists(job.result_key):
        raise ResultExpired("this result is no longer stored")
    return job
