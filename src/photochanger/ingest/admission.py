"""Admitting a photo (SPEC §3.2, §3.5): the checks on the configuration snapshot
it was read with, then one serialized transaction that counts the slot's and the
provider's live jobs and inserts the new one `pending`, so the limits hold
across replicas. Before counting, it looks for the same photo sent to the same
slot in the last minutes, so a booth's re-send does not pay twice.

A snapshot kept from an earlier ingest (`snapshot.py`) is confirmed in that
same transaction; when it is out of date, or the checks refuse the photo on it,
the photo is checked and admitted again on a fresh read. So a request reads
the configuration at most twice, and a kept snapshot never refuses a photo."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import Connection, Row

from photochanger.config import Settings
from photochanger.db import Database
from photochanger.deadline import Deadline
from photochanger.errors import PhotoChangerError, ProviderTimedOut, RateLimited
from photochanger.ingest import validation
from photochanger.ingest.door import Door
from photochanger.ingest.pipeline import ProviderStep, chain_steps
from photochanger.ingest.snapshot import IngestSnapshot, IngestSnapshots, read_config_version
from photochanger.jobs.repository import JobRepository, NewJob
from photochanger.metrics.service import Metrics
from photochanger.models.base import utcnow
from photochanger.models.job import JobStatus
from photochanger.multipart import UploadForm
from photochanger.providers.registry import ProviderRegistry
from photochanger.slots.repository import SlotConfig

log = structlog.get_logger("photochanger.ingest")

RETRY_AFTER_SECONDS = 2
DEDUPE_WINDOW = timedelta(minutes=10)
"""A photo re-sent within this window (same slot, same SHA-256) is the same photo."""
ORIGINAL_POLL_SECONDS = 0.25
"""How often a re-sent photo looks whether its original has finished."""


@dataclass(frozen=True)
class AdmissionRequest:
    """A parsed upload asking to become a job: what its door read, and the
    configuration snapshot it is checked on, with the request's deadline."""

    slot_id: str
    form: UploadForm
    door: Door
    snapshot: IngestSnapshot
    deadline: Deadline


@dataclass(frozen=True)
class PreparedJob:
    """A checked upload and everything its job runs with; once admitted, its
    `record` is the job row, committed `pending`."""

    record: NewJob
    door: Door
    slot: SlotConfig
    """As this run uses it (a test run's unsaved values applied)."""
    upload: validation.CheckedUpload
    steps: list[ProviderStep]
    snapshot: IngestSnapshot
    deadline: Deadline


@dataclass(frozen=True)
class Duplicate:
    """The earlier job of the same photo (pending, or done with its result kept)."""

    original: Row[Any]
    request: AdmissionRequest
    """The request, on the configuration it was found on: to admit it after all
    when the original fails."""


class _Stale:
    """The kept snapshot was out of date or refused the photo: read it afresh."""


_STALE = _Stale()


class JobAdmission:
    def __init__(
        self,
        *,
        database: Database,
        snapshots: IngestSnapshots,
        registry: ProviderRegistry,
        config: Settings,
        metrics: Metrics | None = None,
    ) -> None:
        self._database = database
        self._snapshots = snapshots
        self._registry = registry
        self._config = config
        self._metrics = metrics if metrics is not None else Metrics()

    async def admit(
        self,
        request: AdmissionRequest,
        *,
        dedupe: bool,
        on_cancelled: Callable[[PreparedJob], Awaitable[None]],
    ) -> PreparedJob | Duplicate:
        """The job, admitted `pending`, or the original this photo duplicates.
        A refusal raises its `PhotoChangerError` (a full limit: 429 at once).

        A cancelled caller does not stop the transaction: once it is over, a job
        it inserted is handed to `on_cancelled`, so it never stays pending."""
        outcome = await self._try(request, dedupe, on_cancelled)
        if isinstance(outcome, _Stale):
            fresh = await self._snapshots.fresh(request.slot_id)
            # The request keeps its start; the window is the current one.
            deadline = request.deadline.with_window(fresh.window_seconds)
            request = replace(request, snapshot=fresh, deadline=deadline)
            outcome = await self._try(request, dedupe, on_cancelled)
            assert not isinstance(outcome, _Stale)  # a fresh snapshot is admitted as read
        return outcome

    async def _try(
        self,
        request: AdmissionRequest,
        dedupe: bool,
        on_cancelled: Callable[[PreparedJob], Awaitable[None]],
    ) -> PreparedJob | Duplicate | _Stale:
        try:
            job = self._prepare(request)
        except PhotoChangerError:
            if request.snapshot.reused:
                return _STALE
            raise
        snapshot = request.snapshot
        record = job.record
        runtime = snapshot.runtime

        def admit(connection: Connection) -> Row[Any] | _Stale | None:
            # Only a kept snapshot is confirmed: one read for this request is as
            # current as the configuration can be at its start, and checking it too
            # could send a request round again for as long as someone edits.
            if snapshot.reused and read_config_version(connection) != snapshot.config_version:
                return _STALE
            jobs = JobRepository(connection)
            now = utcnow()
            if dedupe:
                original = jobs.find_original(
                    slot_id=record.slot_id,
                    slot_version=record.slot_version,
                    sha256=record.input_sha256,
                    since=now - DEDUPE_WINDOW,
                    now=now,
                )
                if original is not None:
                    return original
            in_slot, for_provider = jobs.count_live_pending(
                now=now, slot_id=record.slot_id, provider=record.provider
            )
            if in_slot >= runtime.slot_concurrency_limit:
                self._metrics.admission_refused(record.slot_id, record.provider, "slot")
                raise RateLimited(
                    f"{record.slot_id} is processing {in_slot} photos, its limit",
                    retry_after=RETRY_AFTER_SECONDS,
                )
            if for_provider >= runtime.provider_concurrency_limit:
                self._metrics.admission_refused(record.slot_id, record.provider, "provider")
                raise RateLimited(
                    f"provider {record.provider} is processing {for_provider} photos, its limit",
                    retry_after=RETRY_AFTER_SECONDS,
                )
            jobs.insert(record)
            return None

        # A database locked by another process answers 503 by the deadline.
        wait = max(0.0, request.deadline.remaining())
        pending = asyncio.ensure_future(
            self._database.write(admit, serialized=True, lock_timeout=wait)
        )
        try:
            found = await asyncio.shield(pending)
        except asyncio.CancelledError:

            async def settle() -> None:
                await asyncio.wait([pending])
                admitted = (
                    not pending.cancelled()
                    and pending.exception() is None
                    and pending.result() is None
                )
                if admitted:
                    await on_cancelled(job)

            await asyncio.shield(settle())
            raise
        if found is None:
            return job
        if isinstance(found, _Stale):
            return found
        return Duplicate(original=found, request=request)

    def _prepare(self, request: AdmissionRequest) -> PreparedJob:
        """The checks of SPEC §3.2 on the request's snapshot, then its job."""
        door, form, snapshot = request.door, request.form, request.snapshot
        file, password = validation.check_form(form, require_password=door.needs_password)
        if door.needs_password:
            validation.check_password(password, snapshot.runtime.ingest_password)
        slot = validation.check_slot(
            snapshot.slot, request.slot_id, allow_inactive=door.runs_inactive_slot
        )
        # The body was read with this limit unless the snapshot was kept from
        # before the slot's limit was lowered.
        validation.check_size(file, snapshot.file_limit_bytes)
        slot = door.slot_to_run(slot)
        upload = validation.check_image(file)
        steps = chain_steps(slot, snapshot.runtime, self._registry, self._config)

        mismatch = False
        if form.client_hash:
            mismatch = not validation.client_hash_matches(file, form.client_hash)
            if mismatch:
                log.warning("client_hash_mismatch", slot_id=slot.id, client_hash=form.client_hash)
        deadline = request.deadline
        record = NewJob(
            id=secrets.token_urlsafe(18),
            slot_id=slot.id,
            source=door.source,
            provider=slot.provider,
            operation=slot.operation,
            slot_version=slot.version,
            instance_id=self._config.instance_id,
            started_at=deadline.started_at,
            deadline_at=deadline.at,
            input_size=file.size,
            input_mime=upload.mime,
            input_sha1=file.sha1.hexdigest(),
            input_sha256=file.sha256.hexdigest(),
            client_hash=form.client_hash,
            client_hash_mismatch=mismatch,
            booth_metadata=form.metadata,
        )
        return PreparedJob(
            record=record,
            door=door,
            slot=slot,
            upload=upload,
            steps=steps,
            snapshot=snapshot,
            deadline=deadline,
        )

    async def wait_for_original(self, original: Row[Any], deadline: Deadline) -> Row[Any] | None:
        """Wait, within this request's own window, for the job this photo
        duplicates. Its row once done, or None once it failed or timed out."""
        job_id = original.id
        while original.status == JobStatus.pending:
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
        return original if original.status == JobStatus.done else None
