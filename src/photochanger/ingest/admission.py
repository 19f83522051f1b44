"""Admission of a job (SPEC §3.5): one serialized transaction counts the slot's
and the provider's live jobs and inserts the new one `pending`, so the limits
hold across replicas; before counting it looks for the same photo sent to the
same slot in the last minutes, so a booth's re-send does not pay twice."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Row

from photochanger.db import Database
from photochanger.deadline import Deadline
from photochanger.errors import ProviderTimedOut, RateLimited
from photochanger.ingest.snapshot import IngestSnapshot, StaleSnapshot, read_config_version
from photochanger.jobs.repository import JobRepository
from photochanger.models.base import utcnow

RETRY_AFTER_SECONDS = 2
DEDUPE_WINDOW = timedelta(minutes=10)
"""A photo re-sent within this window (same slot, same SHA-256) is the same photo."""
ORIGINAL_POLL_SECONDS = 0.25
"""How often a re-sent photo looks whether its original has finished."""


class Admission:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def admit(
        self,
        row: dict[str, Any],
        snapshot: IngestSnapshot,
        *,
        dedupe: bool,
        on_cancelled: Callable[[], Awaitable[None]],
    ) -> Row[Any] | None:
        """Insert the job `pending`, or return the original it duplicates (pending,
        or done with its result still kept). A full limit raises 429 at once;
        `StaleSnapshot` when the kept slot or settings the row was made from
        changed since they were read.

        A cancelled caller does not stop the transaction: once it is over, a job
        it inserted is handed to `on_cancelled`, so it never stays pending."""

        runtime = snapshot.runtime

        def admit(connection: Connection) -> Row[Any] | None:
            # Only a kept snapshot is confirmed: one read for this request is as
            # current as the configuration can be at its start, and checking it too
            # could send a request round again for as long as someone edits.
            if snapshot.reused and read_config_version(connection) != snapshot.config_version:
                raise StaleSnapshot
            jobs = JobRepository(connection)
            now = utcnow()
            if dedupe:
                original = jobs.find_original(
                    slot_id=row["slot_id"],
                    slot_version=row["slot_version"],
                    sha256=row["input_sha256"],
                    since=now - DEDUPE_WINDOW,
                    now=now,
                )
                if original is not None:
                    return original
            in_slot, for_provider = jobs.count_live_pending(
                now=now, slot_id=row["slot_id"], provider=row["provider"]
            )
            if in_slot >= runtime.slot_concurrency_limit:
                raise RateLimited(
                    f"{row['slot_id']} is processing {in_slot} photos, its limit",
                    retry_after=RETRY_AFTER_SECONDS,
                )
            if for_provider >= runtime.provider_concurrency_limit:
                raise RateLimited(
                    f"provider {row['provider']} is processing {for_provider} photos, its limit",
                    retry_after=RETRY_AFTER_SECONDS,
                )
            jobs.insert(row)
            return None

        pending = asyncio.ensure_future(self._database.write(admit, serialized=True))
        try:
            return await asyncio.shield(pending)
        except asyncio.CancelledError:

            async def settle() -> None:
                await asyncio.wait([pending])
                admitted = (
                    not pending.cancelled()
                    and pending.exception() is None
                    and pending.result() is None
                )
                if admitted:
                    await on_cancelled()

            await asyncio.shield(settle())
            raise

    async def wait_for_original(self, original: Row[Any], deadline: Deadline) -> Row[Any] | None:
        """Wait, within this request's own window, for the job this photo
        duplicates. Its row once done, or None once it failed or timed out."""
        job_id = original.id
        while original.status == "pending":
            remaining = deadline.remaining()
            if remaining <= 0:
                raise ProviderTimedOut(
                    "the same photo is still being processed; no result within the window"
                )
            await asyncio.sleep(min(ORIGINAL_POLL_SECONDS, remaining))
            found = await self._database.read(
                lambda connection: JobRepository(connection).get(job_id)
            )
            assert found is not None
            original = found
        return original if original.status == "done" else None
