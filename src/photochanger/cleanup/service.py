"""`CleanupService`: delete expired results, previews and provider-media files
(SPEC §5.3), safe to run on several replicas and from cron at the same time."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Connection, Row

from photochanger.audit.repository import AuditRepository
from photochanger.auth.repository import IngestFailureRepository, LoginFailureRepository
from photochanger.cleanup.repository import CLEANABLE_KINDS, CleanupRepository
from photochanger.cleanup.schemas import CleanupSummary, RemovedKind
from photochanger.db import Database
from photochanger.errors import SlotNotFound
from photochanger.media.store import MediaStore
from photochanger.metrics.service import Metrics
from photochanger.models.base import utcnow
from photochanger.slots.repository import SlotRepository

BATCH_SIZE = 500
"""Rows claimed per transaction: a large backlog never holds one long transaction."""
MAX_FAILED_PER_RUN = 5000
"""A run stops once this many files could not be deleted: their rows are passed
over by id (`NOT IN`, one bind parameter each) for the rest of the run, and
asyncpg takes at most 32767 parameters a query."""
LOGIN_FAILURE_RETENTION = timedelta(days=1)
"""The lockout looks back 15 minutes; a day keeps enough to read an attack later."""

log = structlog.get_logger("photochanger.cleanup")


class CleanupService:
    """Each batch is claimed in one short transaction (rows marked `cleaned_at`
    first), then the files of the claimed rows only are deleted. A file that is
    already gone is fine; a file that cannot be deleted gives its row back for
    the next run. A crash between claim and delete leaves a file without a live
    row: never served again, only disk until an operator sweeps it.

    A run stops early when a whole batch could not be deleted (the store
    refuses or is gone: the rest of the backlog would fail the same way) or
    once `max_failed` files failed; either way its rows wait for the next run,
    and a run with failures is not counted as a success."""

    def __init__(
        self,
        database: Database,
        store: MediaStore,
        batch_size: int = BATCH_SIZE,
        metrics: Metrics | None = None,
        max_failed: int = MAX_FAILED_PER_RUN,
    ) -> None:
        self._database = database
        self._store = store
        self._batch_size = batch_size
        self._max_failed = max_failed
        self._metrics = metrics if metrics is not None else Metrics()

    async def run(self, slot_id: str | None = None, *, actor: str | None = None) -> CleanupSummary:
        """One pass over everything expired by now (or one slot's). `actor`: the
        admin who asked, for the audit trail (runs by cron or timer have none)."""
        try:
            summary, failed_kinds = await self._run(slot_id, actor)
        except SlotNotFound:
            raise  # nothing was run
        except Exception:
            self._metrics.cleanup_failed()
            raise
        self._metrics.cleanup_finished(
            {kind: (counts.count, counts.bytes) for kind, counts in summary.removed.items()},
            failed=failed_kinds,
            whole=slot_id is None,
        )
        return summary

    async def _run(
        self, slot_id: str | None, actor: str | None
    ) -> tuple[CleanupSummary, dict[str, int]]:
        """The run's summary, and per kind the files it could not delete."""
        started = time.monotonic()
        now = utcnow()
        if slot_id is not None:
            await self._check_slot(slot_id)
        removed = {kind: RemovedKind(count=0, bytes=0) for kind in CLEANABLE_KINDS}
        failed_kinds = dict.fromkeys(CLEANABLE_KINDS, 0)
        missing = 0
        failed: set[str] = set()
        stopped: str | None = None
        while True:
            seen, claimed = await self._claim(now, slot_id, failed)
            if not seen:
                break
            gave_back: list[str] = []
            # One call per batch: a bucket store deletes up to 1000 keys a request.
            outcomes = await self._store.delete_many([row.key for row in claimed])
            for row in claimed:
                outcome = outcomes[row.key]
                if outcome == "failed":
                    gave_back.append(row.id)
                    failed_kinds[row.kind] += 1
                    continue
                removed[row.kind].count += 1
                if outcome == "deleted":
                    removed[row.kind].bytes += row.size
                else:
                    missing += 1
            if gave_back:
                log.warning("cleanup_delete_failed", files=len(gave_back))
                failed.update(gave_back)
                await self._release(gave_back)
                if len(gave_back) == len(claimed):
                    stopped = "batch_failed"
                elif len(failed) >= self._max_failed:
                    stopped = "too_many_failed"
                if stopped is not None:
                    break
        if stopped is not None:
            log.warning("cleanup_stopped", reason=stopped, failed=len(failed))
        pruned = 0
        if slot_id is None:
            before = now - LOGIN_FAILURE_RETENTION
            pruned = await self._database.write(
                lambda c: (
                    LoginFailureRepository(c).prune(before)
                    + IngestFailureRepository(c).prune(before)
                )
            )
        summary = CleanupSummary(
            slot_id=slot_id,
            removed=removed,
            missing_files=missing,
            failed=len(failed),
            login_failures_pruned=pruned,
            duration_ms=round((time.monotonic() - started) * 1000),
        )
        if actor is not None:
            await self._database.write(lambda c: _audit(c, actor, summary))
        log.info(
            "cleanup_finished",
            slot_id=slot_id,
            removed={kind: counts.count for kind, counts in removed.items()},
            removed_bytes=summary.total_bytes,
            missing_files=missing,
            failed=len(failed),
            login_failures_pruned=pruned,
            duration_ms=summary.duration_ms,
        )
        return summary, failed_kinds

    async def _claim(
        self, now: datetime, slot_id: str | None, skip: set[str]
    ) -> tuple[int, list[Row[Any]]]:
        def claim(connection: Connection) -> tuple[int, list[Row[Any]]]:
            return CleanupRepository(connection).claim_expired(
                now, limit=self._batch_size, slot_id=slot_id, skip=skip
            )

        return await self._database.write(claim)

    async def _release(self, ids: list[str]) -> None:
        await self._database.write(lambda c: CleanupRepository(c).release(ids))

    async def _check_slot(self, slot_id: str) -> None:
        slot = await self._database.read(lambda c: SlotRepository(c).get(slot_id))
        if slot is None:
            raise SlotNotFound(f"no slot {slot_id!r}")


def _audit(connection: Connection, actor: str, summary: CleanupSummary) -> None:
    AuditRepository(connection).record(
        actor=actor,
        action="cleanup.run",
        target=summary.slot_id or "media",
        after=summary.model_dump(),
    )
