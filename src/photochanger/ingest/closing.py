"""Closing a job with its final status when the database may be failing.

A job's final write waits for the database until a moment past the job's
deadline, so a locked or lost database cannot hold the booth's answer. A close
the database refuses is not dropped: it is retried in the background until it
goes through, so the job is closed once the database is back rather than left
`pending` until this process restarts (SPEC §3.4; start-up recovery still
closes what a stopped process could not)."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from sqlalchemy import Connection

from photochanger.db import DATABASE_ERRORS, Database
from photochanger.deadline import Deadline
from photochanger.jobs.repository import JobRepository
from photochanger.media.store import MediaStore
from photochanger.models.job import JobStatus

log = structlog.get_logger("photochanger.ingest")

FINAL_WRITE_GRACE_SECONDS = 1.0
"""How long past its deadline a job's final write may wait for a database lock."""
RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 15.0
"""Pause before the first retry of a refused close, doubled up to this."""


def final_write_wait(deadline: Deadline) -> float:
    """The lock wait of a job's final write: until a moment past its deadline (a
    provider that answered at the deadline is still recorded). A close after a
    final write that used it up tries once, then goes to the background."""
    return max(0.0, deadline.remaining() + FINAL_WRITE_GRACE_SECONDS)


class JobCloser:
    """Moves pending jobs to their final failed status, now or, when the
    database refuses, in the background until it accepts (`stop()` ends that
    at shutdown).

    A close may name `stored_key`: a result already put in the store whose
    `done` write failed. Unless the job turns out `done` with that very result
    (the write went through after all, its answer lost), the file is deleted:
    no row names it, so nothing else ever would."""

    def __init__(self, database: Database, store: MediaStore) -> None:
        self._database = database
        self._store = store
        self._retries: set[asyncio.Task[None]] = set()

    async def close(
        self,
        job_id: str,
        status: JobStatus,
        values: dict[str, Any],
        *,
        deadline: Deadline,
        stored_key: str | None = None,
    ) -> None:
        try:
            await self._close(job_id, status, values, stored_key, final_write_wait(deadline))
        except DATABASE_ERRORS as error:
            log.warning("job_close_deferred", job_id=job_id, error=type(error).__name__)
            retry = asyncio.create_task(
                self._retry(job_id, status, values, stored_key), name=f"close-{job_id}"
            )
            self._retries.add(retry)
            retry.add_done_callback(self._retries.discard)
        except Exception:
            log.exception("job_finish_failed", job_id=job_id)

    @property
    def deferred(self) -> int:
        """Closes waiting for the database to come back."""
        return len(self._retries)

    async def stop(self) -> None:
        """Give up the closes still waiting: start-up recovery closes their jobs
        (`interrupted`) when this instance starts again."""
        retries = list(self._retries)
        for retry in retries:
            retry.cancel()
        await asyncio.gather(*retries, return_exceptions=True)
        if retries:
            log.warning("job_closes_abandoned", count=len(retries))

    async def _retry(
        self, job_id: str, status: JobStatus, values: dict[str, Any], stored_key: str | None
    ) -> None:
        pause = RETRY_FIRST_SECONDS
        while True:
            await asyncio.sleep(pause)
            try:
                await self._close(job_id, status, values, stored_key, RETRY_MAX_SECONDS)
            except DATABASE_ERRORS:
                pause = min(pause * 2, RETRY_MAX_SECONDS)
                continue
            except Exception:
                log.exception("job_finish_failed", job_id=job_id)
                return
            log.info("job_closed_late", job_id=job_id, status=status)
            return

    async def _close(
        self,
        job_id: str,
        status: JobStatus,
        values: dict[str, Any],
        stored_key: str | None,
        lock_timeout: float,
    ) -> None:
        def finish(connection: Connection) -> str | None:
            jobs = JobRepository(connection)
            jobs.finish(job_id, status, **values)
            if stored_key is None:
                return None
            row = jobs.get(job_id)
            key: str | None = None if row is None else row.result_key
            return key

        kept = await self._database.write(finish, lock_timeout=lock_timeout)
        if stored_key is not None and kept != stored_key:
            try:
                await self._store.delete(stored_key)
            except OSError:
                log.warning("unrecorded_result_kept", job_id=job_id, key=stored_key)
