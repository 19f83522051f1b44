"""One ingest, start to finish (DESIGN.md "one request, one straight line"):
admitted (`admission.py`), run (`running.py`), answered (`answer.py`).

The same `IngestService.run` serves the booth's ingest and the admin's test
run: one code path, two doors (`door.py`)."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import Row

from photochanger.config import Settings
from photochanger.db import Database
from photochanger.deadline import Deadline
from photochanger.errors import ProviderTimedOut
from photochanger.ingest.admission import AdmissionRequest, Duplicate, JobAdmission
from photochanger.ingest.answer import IngestResult, ResultStore
from photochanger.ingest.door import Door
from photochanger.ingest.lockout import IngestLockout
from photochanger.ingest.running import ORIGINAL, JobRunner
from photochanger.ingest.snapshot import IngestSnapshot, IngestSnapshots
from photochanger.media.store import MediaStore
from photochanger.metrics.service import Metrics
from photochanger.multipart import UploadForm
from photochanger.providers.registry import ProviderRegistry

log = structlog.get_logger("photochanger.ingest")


class IngestService:
    def __init__(
        self,
        *,
        database: Database,
        store: MediaStore,
        registry: ProviderRegistry,
        config: Settings,
        metrics: Metrics | None = None,
    ) -> None:
        metrics = metrics if metrics is not None else Metrics()
        self._snapshots = IngestSnapshots(database)
        self.lockout = IngestLockout(database)
        """Wrong ingest passwords by client address (`lockout.py`)."""
        self._admission = JobAdmission(
            database=database,
            snapshots=self._snapshots,
            registry=registry,
            config=config,
            metrics=metrics,
        )
        self._results = ResultStore(database=database, store=store, config=config)
        self._runner = JobRunner(
            database=database,
            store=store,
            results=self._results,
            config=config,
            default_prices=registry.default_prices(),
            metrics=metrics,
        )

    async def stop(self) -> None:
        """At shutdown: give up the job closes still waiting for the database
        (`closing.py`); start-up recovery closes those jobs."""
        await self._runner.closer.stop()

    async def snapshot(self, slot_id: str, declared_length: int | None) -> IngestSnapshot:
        """The slot and settings to read this upload's body with (see `snapshot.py`);
        the request's deadline is made from its window."""
        return await self._snapshots.for_upload(slot_id, declared_length)

    async def run(
        self,
        *,
        slot_id: str,
        snapshot: IngestSnapshot,
        form: UploadForm,
        deadline: Deadline,
        door: Door,
    ) -> IngestResult:
        """Validate (SPEC §3.2 order), admit, run the provider under the deadline,
        store the result. Raises a `PhotoChangerError` for every failure; by then
        the job, if one was created, has its final status. The job records the
        provider and operation it ran with (a test run's unsaved choice)."""
        request = AdmissionRequest(
            slot_id=slot_id, form=form, door=door, snapshot=snapshot, deadline=deadline
        )
        admitted = await self._admission.admit(
            request, dedupe=door.dedupes, on_cancelled=self._runner.close_cancelled
        )
        if isinstance(admitted, Duplicate):
            done = await self._wait_for_original(admitted)
            if done is not None and (answer := await self._results.of_original(done)) is not None:
                log.info("ingest_deduplicated", original_job_id=done.id)
                return answer
            # The original failed: this photo gets a job of its own.
            admitted = await self._admission.admit(
                admitted.request, dedupe=False, on_cancelled=self._runner.close_cancelled
            )
            assert not isinstance(admitted, Duplicate)
        return await self._runner.run(admitted)

    async def _wait_for_original(self, duplicate: Duplicate) -> Row[Any] | None:
        """The original's row once done; None when it failed — or, for a slot
        with `on_failure: original`, when it is still running at the margin
        before this request's deadline: this photo is then admitted as a job of
        its own with no time left, and answered with the guest's photo."""
        request = duplicate.request
        slot = request.snapshot.slot
        if slot is None or slot.on_failure != ORIGINAL:
            return await self._admission.wait_for_original(duplicate.original, request.deadline)
        margin = request.snapshot.runtime.on_failure_margin_seconds
        try:
            return await self._admission.wait_for_original(
                duplicate.original, request.deadline.shortened(margin)
            )
        except ProviderTimedOut:
            return None
