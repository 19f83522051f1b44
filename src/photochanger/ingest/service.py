"""One ingest, start to finish (DESIGN.md "one request, one straight line").

The same `IngestService.run` serves the booth's ingest and, later, the admin's
test run: one code path, two doors.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import Connection, Row

from photochanger.config import Settings
from photochanger.db import Database
from photochanger.deadline import Deadline
from photochanger.errors import (
    InternalError,
    PhotoChangerError,
    ProviderFailed,
    ProviderTimedOut,
    ServiceUnavailable,
)
from photochanger.ingest import validation
from photochanger.ingest.admission import Admission
from photochanger.ingest.media_type import SNIFF_BYTES, sniff_image_mime
from photochanger.ingest.pipeline import (
    Attempt,
    ChainFailed,
    ChainOutcome,
    ProviderChain,
    ProviderStep,
)
from photochanger.ingest.snapshot import IngestSnapshot, IngestSnapshots, StaleSnapshot
from photochanger.ingest.upload import SPOOL_MEMORY_BYTES, IngestForm
from photochanger.jobs.repository import JobRepository
from photochanger.media.keys import result_key
from photochanger.media.provider_media import ProviderMediaPublisher
from photochanger.media.repository import MediaRepository
from photochanger.media.store import MediaStore
from photochanger.models.base import utcnow
from photochanger.providers.api_keys import api_key_for
from photochanger.providers.base import (
    InputImage,
    JobContext,
    ProviderResult,
    TemplateImage,
)
from photochanger.providers.registry import ProviderRegistry, UnknownOperation, UnknownProvider
from photochanger.settings.schemas import RuntimeSettings
from photochanger.slots.override import SlotOverride
from photochanger.slots.repository import SlotConfig, SlotRepository

log = structlog.get_logger("photochanger.ingest")

ADMISSION_RETRY_AFTER = 2
ANSWER_IN_MEMORY_BYTES = SPOOL_MEMORY_BYTES
"""A result on disk up to this size is read whole for the answer; larger ones are
streamed in chunks: 500 answers leaving at once must not each hold a whole photo
(bench/README.md: 500 held ingests stay under 300 MB)."""


@dataclass(frozen=True)
class AdmittedJob:
    """The job row's identity, once it is committed `pending`."""

    id: str
    slot_id: str
    provider: str
    started_at: datetime


@dataclass(frozen=True)
class Admitting:
    """A validated upload and the job row it is to be admitted as."""

    job: AdmittedJob
    row: dict[str, Any]
    slot: SlotConfig
    upload: validation.CheckedUpload
    steps: list[ProviderStep]


@dataclass(frozen=True)
class IngestResult:
    job_id: str
    mime: str
    size: int
    result_key: str
    result_url: str
    started_at: datetime
    data: bytes | None
    deduplicated: bool = False
    """The answer of an earlier job for the same photo (SPEC §3.5)."""


class IngestService:
    def __init__(
        self,
        *,
        database: Database,
        store: MediaStore,
        registry: ProviderRegistry,
        config: Settings,
    ) -> None:
        self._database = database
        self._admission = Admission(database)
        self._snapshots = IngestSnapshots(database)
        self._store = store
        self._registry = registry
        self._config = config

    async def snapshot(self, slot_id: str, declared_length: int | None) -> IngestSnapshot:
        """The slot and settings to read this upload's body with (see `snapshot.py`)."""
        return await self._snapshots.for_upload(slot_id, declared_length)

    async def run(
        self,
        *,
        slot_id: str,
        snapshot: IngestSnapshot,
        form: IngestForm,
        deadline: Deadline,
        source: str,
        require_password: bool = True,
        override: SlotOverride | None = None,
    ) -> IngestResult:
        """Validate (SPEC §3.2 order), admit, run the provider under the deadline,
        store the result. Raises a `PhotoChangerError` for every failure; by then
        the job, if one was created, has its final status.

        An admin's test run passes `require_password=False` and the unsaved form
        values as `override` (which also lets an inactive slot be tried); the job
        records the provider and operation the override chose."""
        attempts: list[Attempt] = []
        # Only a booth re-sends; an admin's test run always runs.
        dedupe = source == "ingest"
        while True:
            deadline = deadline.with_window(snapshot.runtime.sync_response_seconds)
            try:
                admitting = self._admitting(
                    slot_id, snapshot, form, deadline, source, require_password, override
                )
            except PhotoChangerError:
                if not snapshot.reused:
                    raise
                snapshot = await self._snapshots.fresh(slot_id)
                continue
            job = admitting.job

            close_cancelled = partial(
                self._finish_failed,
                job,
                deadline,
                "failed",
                "interrupted",
                "request cancelled",
                attempts,
            )

            try:
                original = await self._admission.admit(
                    admitting.row, snapshot, dedupe=dedupe, on_cancelled=close_cancelled
                )
            except StaleSnapshot:
                snapshot = await self._snapshots.fresh(slot_id)
                continue
            if original is None:
                break
            done = await self._admission.wait_for_original(original, deadline)
            if done is not None and (answer := await self._answer_of(done)) is not None:
                log.info("ingest_deduplicated", original_job_id=done.id)
                return answer
            dedupe = False  # the original failed: this photo gets a job of its own
        slot, upload, steps = admitting.slot, admitting.upload, admitting.steps
        file = upload.file
        structlog.contextvars.bind_contextvars(job_id=job.id)

        publisher = self._publisher(job, deadline)
        try:
            uses_templates = any(
                step.driver.operations[step.operation].uses_templates for step in steps
            )
            ctx = JobContext(
                job_id=job.id,
                slot_id=slot.id,
                operation=slot.operation,
                settings=steps[0].settings,
                image=InputImage(mime=upload.mime, size=file.size, data=file.data, path=file.path),
                deadline=deadline,
                templates=await self._load_templates(slot.id, override) if uses_templates else (),
                publish=publisher,
            )
            try:
                outcome = await ProviderChain(steps).run(ctx, attempts)
            except ChainFailed as failed:
                raise failed.error from None
            stored = await self._store_result(job, outcome, snapshot.runtime, deadline)
        except asyncio.CancelledError:
            await asyncio.shield(close_cancelled())
            raise
        except PhotoChangerError as error:
            status = "timeout" if isinstance(error, ProviderTimedOut) else "failed"
            await self._finish_failed(
                job, deadline, status, error.failure_reason, error.details, attempts
            )
            raise
        except Exception:
            log.exception("ingest_crashed")
            await self._finish_failed(
                job, deadline, "failed", "internal_error", "unexpected error", attempts
            )
            raise InternalError("unexpected error while finishing the job") from None
        finally:
            if publisher.published:  # no shielded task per ingest for nothing
                await asyncio.shield(publisher.discard())
        return stored

    def _admitting(
        self,
        slot_id: str,
        snapshot: IngestSnapshot,
        form: IngestForm,
        deadline: Deadline,
        source: str,
        require_password: bool,
        override: SlotOverride | None,
    ) -> Admitting:
        """The checks of SPEC §3.2 on this snapshot, then the job row to admit."""
        file, password = validation.check_form(form, require_password=require_password)
        if require_password:
            validation.check_password(password, snapshot.runtime.ingest_password)
        slot = validation.check_slot(snapshot.slot, slot_id, allow_inactive=override is not None)
        # The body was read with this limit unless the snapshot was kept from
        # before the slot's limit was lowered.
        validation.check_size(file, snapshot.file_limit_bytes)
        if override is not None:
            slot = override.apply(slot)
        upload = validation.check_image(file)
        steps = self._steps(slot, snapshot.runtime)

        mismatch = False
        if form.client_hash:
            mismatch = not validation.client_hash_matches(file, form.client_hash)
            if mismatch:
                log.warning("client_hash_mismatch", slot_id=slot.id, client_hash=form.client_hash)
        job = AdmittedJob(
            id=secrets.token_urlsafe(18),
            slot_id=slot.id,
            provider=slot.provider,
            started_at=deadline.started_at,
        )
        row = {
            "id": job.id,
            "slot_id": slot.id,
            "source": source,
            "status": "pending",
            "provider": slot.provider,
            "operation": slot.operation,
            "slot_version": slot.version,
            "instance_id": self._config.instance_id,
            "started_at": deadline.started_at,
            "deadline_at": deadline.at,
            "input_size": file.size,
            "input_mime": upload.mime,
            "input_sha1": file.sha1.hexdigest(),
            "input_sha256": file.sha256.hexdigest(),
            "client_hash": form.client_hash,
            "client_hash_mismatch": mismatch,
            "booth_metadata": form.metadata,
            "attempts": [],
        }
        return Admitting(job=job, row=row, slot=slot, upload=upload, steps=steps)

    def _steps(self, slot: SlotConfig, runtime: RuntimeSettings) -> list[ProviderStep]:
        """The slot's provider configuration, then its fallback (SPEC §3.5). A
        primary that cannot run is a 503; a broken fallback is logged and skipped."""
        try:
            steps = [self._step("primary", slot.provider, slot.operation, slot.settings, runtime)]
        except (UnknownProvider, UnknownOperation):
            raise ServiceUnavailable(
                f"provider {slot.provider!r} is not available for {slot.id}"
            ) from None
        except ValidationError:
            raise ServiceUnavailable(f"{slot.id} has invalid provider settings") from None
        if slot.fallback:
            fallback = slot.fallback
            try:
                steps.append(
                    self._step(
                        "fallback",
                        str(fallback.get("provider")),
                        str(fallback.get("operation")),
                        fallback.get("settings") or {},
                        runtime,
                    )
                )
            except (UnknownProvider, UnknownOperation, ValidationError):
                log.warning("fallback_unusable", slot_id=slot.id)
        return steps

    def _step(
        self,
        role: str,
        provider: str,
        operation: str,
        settings: dict[str, Any],
        runtime: RuntimeSettings,
    ) -> ProviderStep:
        driver = self._registry.get(provider)
        return ProviderStep(
            role=role,
            driver=driver,
            operation=operation,
            settings=self._registry.parse_settings(provider, operation, settings),
            api_key=api_key_for(driver, runtime, self._config),
        )

    async def _load_templates(
        self, slot_id: str, override: SlotOverride | None
    ) -> list[TemplateImage]:
        replacing = override.templates if override is not None else {}
        files = await self._database.read(
            lambda connection: SlotRepository(connection).template_files(slot_id, replacing)
        )
        try:
            return [
                TemplateImage(role=role, mime=mime, data=await self._store.read(key))
                for role, key, mime in files
            ]
        except OSError:
            log.exception("template_unreadable", slot_id=slot_id)
            raise ServiceUnavailable("a template image of this slot cannot be read") from None

    async def _store_result(
        self,
        job: AdmittedJob,
        outcome: ChainOutcome,
        runtime: RuntimeSettings,
        deadline: Deadline,
    ) -> IngestResult:
        result = outcome.result
        data = result.data
        if data is None:
            assert result.path is not None
            data = await asyncio.to_thread(_answer_bytes, result.path)
        mime = await result_mime_from_bytes(result if data is None else replace(result, data=data))
        if mime is None:
            raise ProviderFailed("the provider returned no usable image")
        if mime != result.mime:
            log.warning("provider_mime_corrected", declared=result.mime[:40], actual=mime)
        key = result_key(job.id, job.started_at, mime)
        try:
            if result.path is not None:
                # A spooled file enters the store by link, with no copy.
                size = await self._store.put_file(key, result.path)
            else:
                assert data is not None
                size = await self._store.put_bytes(key, data)
        except OSError:
            log.exception("media_store_failed")
            raise ServiceUnavailable("the media store is unavailable") from None
        finished = utcnow()
        expires = finished + timedelta(hours=runtime.result_ttl_hours)

        def finish(connection: Connection) -> bool:
            MediaRepository(connection).add(
                kind="result",
                key=key,
                size=size,
                mime=mime,
                job_id=job.id,
                slot_id=job.slot_id,
                expires_at=expires,
                created_at=finished,
            )
            return JobRepository(connection).finish(
                job.id,
                "done",
                **self._final_times(deadline, finished),
                produced_by=outcome.produced_by,
                attempts=[attempt.as_record() for attempt in outcome.attempts],
                result_key=key,
                result_mime=mime,
                result_size=size,
                result_expires_at=expires,
            )

        if not await self._database.write(finish):
            raise InternalError("the job was closed by another process")
        return IngestResult(
            job_id=job.id,
            mime=mime,
            size=size,
            result_key=key,
            result_url=self._result_url(job.id),
            started_at=job.started_at,
            data=data,
        )

    async def _finish_failed(
        self,
        job: AdmittedJob,
        deadline: Deadline,
        status: str,
        reason: str,
        details: str,
        attempts: list[Attempt],
    ) -> None:
        values = {
            "failure_reason": reason,
            "failure_details": details[:2000],
            "attempts": [attempt.as_record() for attempt in attempts],
            **self._final_times(deadline, utcnow()),
        }
        try:
            await self._database.write(
                lambda connection: JobRepository(connection).finish(job.id, status, **values)
            )
        except Exception:
            # Start-up recovery closes it if we cannot now.
            log.exception("job_finish_failed", job_id=job.id)

    async def _answer_of(self, original: Row[Any]) -> IngestResult | None:
        """The answer a re-sent photo gets: its original's stored result, or None
        when that file is gone."""
        data: bytes | None = None
        try:
            if original.result_size <= ANSWER_IN_MEMORY_BYTES:
                data = await self._store.read(original.result_key)
            elif not await self._store.exists(original.result_key):
                return None
        except FileNotFoundError:
            return None
        return IngestResult(
            job_id=original.id,
            mime=original.result_mime,
            size=original.result_size,
            result_key=original.result_key,
            result_url=self._result_url(original.id),
            started_at=original.started_at,
            data=data,
            deduplicated=True,
        )

    def _publisher(self, job: AdmittedJob, deadline: Deadline) -> ProviderMediaPublisher:
        return ProviderMediaPublisher(
            database=self._database,
            store=self._store,
            public_base_url=self._config.public_base_url,
            job_id=job.id,
            slot_id=job.slot_id,
            deadline=deadline,
        )

    def _result_url(self, job_id: str) -> str:
        return f"{self._config.public_base_url}/public/results/{job_id}"

    @staticmethod
    def _final_times(deadline: Deadline, finished: datetime) -> dict[str, Any]:
        duration = int((finished - deadline.started_at).total_seconds() * 1000)
        return {"finished_at": finished, "duration_ms": max(0, duration)}


def _answer_bytes(path: Path) -> bytes | None:
    """A small result file read whole for the answer; None for a large one."""
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size > ANSWER_IN_MEMORY_BYTES:
            return None
        return handle.read()


async def result_mime_from_bytes(result: ProviderResult) -> str | None:
    """The result's real type, from its bytes: the answer's Content-Type must
    match them (SPEC §3.3), whatever the provider claimed."""
    if result.data is not None:
        return sniff_image_mime(result.data[:SNIFF_BYTES])
    if result.path is None:
        return None

    def head(path: Path) -> bytes:
        with open(path, "rb") as handle:
            return handle.read(SNIFF_BYTES)

    return sniff_image_mime(await asyncio.to_thread(head, result.path))
