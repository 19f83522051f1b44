"""Running an admitted job: its provider chain under the request's deadline,
then its result kept; on any failure the job is closed with its final status
before the error leaves, so no job stays `pending`."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence

import structlog

from photochanger.config import Settings
from photochanger.db import DATABASE_ERRORS, Database
from photochanger.deadline import Deadline
from photochanger.errors import (
    BudgetSpent,
    InternalError,
    PhotoChangerError,
    ProviderFailed,
    ProviderTimedOut,
    ServiceUnavailable,
)
from photochanger.ingest.admission import PreparedJob
from photochanger.ingest.answer import (
    IngestResult,
    JobClosedElsewhere,
    ResultStore,
    ResultUnrecorded,
    StoreUnavailable,
    sent_columns,
)
from photochanger.ingest.closing import JobCloser
from photochanger.ingest.pipeline import (
    Attempt,
    AttemptOutcome,
    ChainOutcome,
    ProviderChain,
    ProviderStep,
    job_cost,
)
from photochanger.ingest.remote_inputs import RemoteInputs
from photochanger.jobs.repository import final_times
from photochanger.media.downscale import SentImage
from photochanger.media.provider_media import ProviderMediaPublisher
from photochanger.media.store import MediaStore
from photochanger.metrics.service import Metrics
from photochanger.models.base import utc_midnight, utcnow
from photochanger.models.job import JobStatus
from photochanger.providers.base import InputImage, JobContext, ProviderResult, TemplateImage
from photochanger.providers.pricing import PriceTable, budget_reached
from photochanger.slots.repository import SlotConfig, SlotRepository

log = structlog.get_logger("photochanger.ingest")


ORIGINAL = "original"
"""The `on_failure` that answers with the guest's own photo, and then that
answer's `produced_by`."""
DEGRADED_BUDGET = "budget"
_REASON_CHARACTERS = re.compile(r"[^A-Za-z0-9_.-]+")


def degraded_reason(error: PhotoChangerError, attempts: Sequence[Attempt]) -> str:
    """The `X-PhotoChanger-Degraded` value: `timeout`, `budget`, or the §3.2
    code with the provider's own reason when it gave one
    (`provider_error:IMAGE_SAFETY`). Header-safe, at most 64 characters."""
    if isinstance(error, ProviderTimedOut):
        return "timeout"
    if isinstance(error, BudgetSpent):
        return DEGRADED_BUDGET
    reason = error.failure_reason
    own = attempts[-1].reason if attempts and isinstance(error, ProviderFailed) else None
    own = _REASON_CHARACTERS.sub("_", own or "").strip("_")
    return (f"{reason}:{own}" if own else reason)[:64]


class JobRunner:
    def __init__(
        self,
        *,
        database: Database,
        store: MediaStore,
        results: ResultStore,
        config: Settings,
        default_prices: PriceTable,
        metrics: Metrics | None = None,
    ) -> None:
        self._database = database
        self._store = store
        self._results = results
        self.closer = JobCloser(database, store)
        self._public_base_url = config.public_base_url
        self._default_prices = default_prices
        self._metrics = metrics if metrics is not None else Metrics()

    async def run(self, job: PreparedJob) -> IngestResult:
        """The job's result, kept; or its `PhotoChangerError`, the job closed.

        The chain runs primary (with retries) → fallback → the slot's
        `on_failure`: with `original`, a chain that fails — or is still running
        `on_failure_margin_seconds` before the deadline — is answered with the
        guest's own photo, the job `done` and marked degraded (SPEC §10)."""
        record, slot = job.record, job.slot
        runtime = job.snapshot.runtime
        attempts: list[Attempt] = []
        remote = RemoteInputs(slot.max_input_megapixels)
        structlog.contextvars.bind_contextvars(job_id=record.id)
        degrades = slot.on_failure == ORIGINAL
        deadline = (
            job.deadline.shortened(runtime.on_failure_margin_seconds) if degrades else job.deadline
        )
        publisher = ProviderMediaPublisher(
            database=self._database,
            store=self._store,
            public_base_url=self._public_base_url,
            job_id=record.id,
            slot_id=record.slot_id,
            deadline=job.deadline,
        )
        try:
            try:
                outcome = await self._chain(job, deadline, remote, publisher, attempts)
                return await self._results.keep(job, outcome, remote.sent)
            except (ProviderFailed, ProviderTimedOut, ServiceUnavailable, InternalError) as error:
                # The chain failed, or its image proved unusable when kept; the
                # store or the database being down is no reason to try again.
                unkeepable = StoreUnavailable | ResultUnrecorded | JobClosedElsewhere
                if not degrades or isinstance(error, unkeepable):
                    raise
                outcome = self._original(job, error, attempts)
                log.warning("ingest_degraded", reason=outcome.degraded_reason)
            return await self._results.keep(job, outcome, remote.sent)
        except asyncio.CancelledError:
            await asyncio.shield(self.close_cancelled(job, attempts, remote.sent))
            raise
        except PhotoChangerError as error:
            status = JobStatus.timeout if isinstance(error, ProviderTimedOut) else JobStatus.failed
            stored = (
                error.stored_key
                if isinstance(error, ResultUnrecorded | JobClosedElsewhere)
                else None
            )
            await self.close(
                job,
                status,
                error.failure_reason,
                error.details,
                attempts,
                remote.sent,
                stored_key=stored,
            )
            raise
        except DATABASE_ERRORS as error:
            # A database read on the way (templates, budget), or a failing disk
            # (asyncpg's refused connection is an `OSError` too): a 503.
            log.warning("ingest_storage_unavailable", error=type(error).__name__)
            what = "the database or media store" if isinstance(error, OSError) else "the database"
            unavailable = ServiceUnavailable(f"{what} is unavailable")
            await self.close(
                job,
                JobStatus.failed,
                unavailable.failure_reason,
                unavailable.details,
                attempts,
                remote.sent,
            )
            raise unavailable from None
        except Exception:
            log.exception("ingest_crashed")
            await self.close(
                job, JobStatus.failed, "internal_error", "unexpected error", attempts, remote.sent
            )
            raise InternalError("unexpected error while finishing the job") from None
        finally:
            self._count_calls(attempts)
            if publisher.published:  # no shielded task per ingest for nothing
                await asyncio.shield(publisher.discard())

    def _count_calls(self, attempts: Sequence[Attempt]) -> None:
        """Each provider call of the job into the metrics, from its attempt
        record: a call followed by another of the same step was retried."""
        for index, attempt in enumerate(attempts):
            if attempt.outcome == AttemptOutcome.skipped:
                continue  # no call was made
            following = attempts[index + 1] if index + 1 < len(attempts) else None
            self._metrics.provider_call(
                attempt.provider,
                attempt.outcome,
                attempt.duration_ms / 1000,
                retried=following is not None and following.role == attempt.role,
            )

    async def _chain(
        self,
        job: PreparedJob,
        deadline: Deadline,
        remote: RemoteInputs,
        publisher: ProviderMediaPublisher,
        attempts: list[Attempt],
    ) -> ChainOutcome:
        slot, upload, steps = job.slot, job.upload, job.steps
        file = upload.file
        uses_templates = any(
            step.driver.operations[step.operation].uses_templates for step in steps
        )
        templates = (
            await self._load_templates(slot.id, job.door.replacing_templates)
            if uses_templates
            else ()
        )
        ctx = JobContext(
            job_id=job.record.id,
            slot_id=slot.id,
            operation=slot.operation,
            settings=steps[0].settings,
            image=InputImage(mime=upload.mime, size=file.size, data=file.data, path=file.path),
            deadline=deadline,
            templates=templates,
            publish=publisher,
        )
        over_budget = await self._budget_spent(slot, steps)
        chain = ProviderChain(
            steps,
            prices=job.snapshot.runtime.prices or self._default_prices,
            remote_inputs=remote,
            skip_remote=over_budget,
        )
        outcome = await chain.run(ctx, attempts)
        if any(attempt.outcome == AttemptOutcome.skipped for attempt in outcome.attempts):
            outcome.degraded_reason = DEGRADED_BUDGET  # a free fallback answered instead
        return outcome

    async def _budget_spent(self, slot: SlotConfig, steps: Sequence[ProviderStep]) -> bool:
        """Whether the slot's estimated spend today (UTC) has reached its
        `daily_budget`, counted in the database so every replica agrees."""
        if slot.daily_budget is None or not any(step.driver.remote for step in steps):
            return False
        today = utc_midnight(utcnow())
        spent = await self._database.read(
            lambda connection: SlotRepository(connection).spent_since([slot.id], today)
        )
        spent_micros = spent.get(slot.id, 0)
        if budget_reached(slot.daily_budget, spent_micros):
            log.warning("slot_budget_spent", slot_id=slot.id, spent_micros=spent_micros)
            return True
        return False

    @staticmethod
    def _original(
        job: PreparedJob, error: PhotoChangerError, attempts: list[Attempt]
    ) -> ChainOutcome:
        """The guest's own photo as the answer (`on_failure: original`); the
        result store turns it upright and strips it as it does every result."""
        file = job.upload.file
        photo = ProviderResult(mime=job.upload.mime, data=file.data, path=file.path)
        return ChainOutcome(
            photo,
            ORIGINAL,
            attempts,
            degraded_reason=degraded_reason(error, attempts),
            details=error.details,
        )

    async def close_cancelled(
        self,
        job: PreparedJob,
        attempts: Sequence[Attempt] = (),
        sent: SentImage | None = None,
    ) -> None:
        """Close a job whose request went away (the booth hung up)."""
        await self.close(job, JobStatus.failed, "interrupted", "request cancelled", attempts, sent)

    async def close(
        self,
        job: PreparedJob,
        status: JobStatus,
        reason: str,
        details: str,
        attempts: Sequence[Attempt],
        sent: SentImage | None = None,
        *,
        stored_key: str | None = None,
    ) -> None:
        """Move the job to its final failed status, with the attempts made and
        what they cost; when the database refuses, in the background once it is
        back. `stored_key`: a result put in the store that no row names."""
        values = {
            "failure_reason": reason,
            "failure_details": details[:2000],
            "attempts": [attempt.as_record() for attempt in attempts],
            "cost_micros": job_cost(attempts),
            **sent_columns(sent),
            **final_times(job.record.started_at, utcnow()),
        }
        await self.closer.close(
            job.record.id, status, values, deadline=job.deadline, stored_key=stored_key
        )

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
