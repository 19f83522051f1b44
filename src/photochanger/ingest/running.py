"""Running an admitted job: its provider chain under the request's deadline,
then its result kept; on any failure the job is closed with its final status
before the error leaves, so no job stays `pending`."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import structlog

from photochanger.config import Settings
from photochanger.db import Database
from photochanger.errors import (
    InternalError,
    PhotoChangerError,
    ProviderTimedOut,
    ServiceUnavailable,
)
from photochanger.ingest.admission import PreparedJob
from photochanger.ingest.answer import IngestResult, ResultStore
from photochanger.ingest.pipeline import Attempt, ProviderChain
from photochanger.jobs.repository import JobRepository, final_times
from photochanger.media.provider_media import ProviderMediaPublisher
from photochanger.media.store import MediaStore
from photochanger.models.base import utcnow
from photochanger.models.job import JobStatus
from photochanger.providers.base import InputImage, JobContext, TemplateImage
from photochanger.slots.repository import SlotRepository

log = structlog.get_logger("photochanger.ingest")


class JobRunner:
    def __init__(
        self,
        *,
        database: Database,
        store: MediaStore,
        results: ResultStore,
        config: Settings,
    ) -> None:
        self._database = database
        self._store = store
        self._results = results
        self._public_base_url = config.public_base_url

    async def run(self, job: PreparedJob) -> IngestResult:
        """The job's result, kept; or its `PhotoChangerError`, the job closed."""
        record, slot, upload, steps = job.record, job.slot, job.upload, job.steps
        attempts: list[Attempt] = []
        file = upload.file
        structlog.contextvars.bind_contextvars(job_id=record.id)
        publisher = ProviderMediaPublisher(
            database=self._database,
            store=self._store,
            public_base_url=self._public_base_url,
            job_id=record.id,
            slot_id=record.slot_id,
            deadline=job.deadline,
        )
        try:
            uses_templates = any(
                step.driver.operations[step.operation].uses_templates for step in steps
            )
            templates = (
                await self._load_templates(slot.id, job.door.replacing_templates)
                if uses_templates
                else ()
            )
            ctx = JobContext(
                job_id=record.id,
                slot_id=slot.id,
                operation=slot.operation,
                settings=steps[0].settings,
                image=InputImage(mime=upload.mime, size=file.size, data=file.data, path=file.path),
                deadline=job.deadline,
                templates=templates,
                publish=publisher,
            )
            outcome = await ProviderChain(steps).run(ctx, attempts)
            return await self._results.keep(job, outcome)
        except asyncio.CancelledError:
            await asyncio.shield(self.close_cancelled(job, attempts))
            raise
        except PhotoChangerError as error:
            status = JobStatus.timeout if isinstance(error, ProviderTimedOut) else JobStatus.failed
            await self.close(job, status, error.failure_reason, error.details, attempts)
            raise
        except Exception:
            log.exception("ingest_crashed")
            await self.close(job, JobStatus.failed, "internal_error", "unexpected error", attempts)
            raise InternalError("unexpected error while finishing the job") from None
        finally:
            if publisher.published:  # no shielded task per ingest for nothing
                await asyncio.shield(publisher.discard())

    async def close_cancelled(self, job: PreparedJob, attempts: Sequence[Attempt] = ()) -> None:
        """Close a job whose request went away (the booth hung up)."""
        await self.close(job, JobStatus.failed, "interrupted", "request cancelled", attempts)

    async def close(
        self,
        job: PreparedJob,
        status: JobStatus,
        reason: str,
        details: str,
        attempts: Sequence[Attempt],
    ) -> None:
        """Move the job to its final failed status, with the attempts made."""
        values = {
            "failure_reason": reason,
            "failure_details": details[:2000],
            "attempts": [attempt.as_record() for attempt in attempts],
            **final_times(job.record.started_at, utcnow()),
        }
        job_id = job.record.id
        try:
            await self._database.write(
                lambda connection: JobRepository(connection).finish(job_id, status, **values)
            )
        except Exception:
            # Start-up recovery closes it if we cannot now.
            log.exception("job_finish_failed", job_id=job_id)

    async def _load_templates(
        self, slot_id: str, replacing: Mapping[str, str | None]
    ) -> list[TemplateImage]:
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
