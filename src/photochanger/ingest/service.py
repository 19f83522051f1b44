"""One ingest, start to finish (DESIGN.md "one request, one straight line"):
admitted (`admission.py`), run (`running.py`), answered (`answer.py`).

The same `IngestService.run` serves the booth's ingest and the admin's test
run: one code path, two doors (`door.py`)."""

from __future__ import annotations

import structlog

from photochanger.config import Settings
from photochanger.db import Database
from photochanger.deadline import Deadline
from photochanger.ingest.admission import AdmissionRequest, Duplicate, JobAdmission
from photochanger.ingest.answer import IngestResult, ResultStore
from photochanger.ingest.door import Door
from photochanger.ingest.running import JobRunner
from photochanger.ingest.snapshot import IngestSnapshot, IngestSnapshots
from photochanger.media.store import MediaStore
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
    ) -> None:
        self._snapshots = IngestSnapshots(database)
        self._admission = JobAdmission(
            database=database, snapshots=self._snapshots, registry=registry, config=config
        )
        self._results = ResultStore(database=database, store=store, config=config)
        self._runner = JobRunner(
            database=database,
            store=store,
            results=self._results,
            config=config,
            default_prices=registry.default_prices(),
        )

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
            done = await self._admission.wait_for_original(
                admitted.original, admitted.request.deadline
            )
            if done is not None and (answer := await self._results.of_original(done)) is not None:
                log.info("ingest_deduplicated", original_job_id=done.id)
                return answer
            # The original failed: this photo gets a job of its own.
            admitted = await self._admission.admit(
                admitted.request, dedupe=False, on_cancelled=self._runner.close_cancelled
            )
            assert not isinstance(admitted, Duplicate)
        return await self._runner.run(admitted)
