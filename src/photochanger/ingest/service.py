"""One ingest, start to finish (DESIGN.md "one request, one straight line").

The same `IngestService.run` serves the booth's ingest and, later, the admin's
test run: one code path, two doors.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError

from photochanger.config import GLOBAL_UPLOAD_CAP_MB, Settings
from photochanger.db import SessionFactory, serialized_unit_of_work, write_unit_of_work
from photochanger.deadline import Deadline
from photochanger.errors import (
    InternalError,
    PhotoChangerError,
    ProviderFailed,
    ProviderTimedOut,
    RateLimited,
    ServiceUnavailable,
)
from photochanger.ingest import validation
from photochanger.ingest.media_type import SNIFF_BYTES, sniff_image_mime
from photochanger.ingest.upload import IngestForm
from photochanger.jobs.repository import JobRepository
from photochanger.media.keys import result_key
from photochanger.media.repository import MediaRepository
from photochanger.media.store import MediaStore
from photochanger.models import Job, Slot
from photochanger.models.base import utcnow
from photochanger.providers.base import (
    InputImage,
    JobContext,
    OperationSettings,
    ProviderDriver,
    ProviderError,
    ProviderNotConfigured,
    ProviderResult,
    TemplateImage,
)
from photochanger.providers.registry import ProviderRegistry, UnknownOperation
from photochanger.settings.schemas import RuntimeSettings
from photochanger.settings.service import load_runtime_settings
from photochanger.slots.repository import SlotRepository

log = structlog.get_logger("photochanger.ingest")

MB = 1024 * 1024


@dataclass(frozen=True)
class IngestSnapshot:
    """What an ingest needs from the database before it reads the body."""

    runtime: RuntimeSettings
    slot: Slot | None

    @property
    def file_limit_bytes(self) -> int:
        limit = GLOBAL_UPLOAD_CAP_MB
        if self.slot is not None:
            limit = min(limit, self.slot.size_limit_mb)
        return limit * MB


@dataclass(frozen=True)
class IngestResult:
    job_id: str
    slot_id: str
    mime: str
    size: int
    result_key: str
    result_url: str
    started_at: datetime
    expires_at: datetime
    data: bytes | None


class IngestService:
    def __init__(
        self,
        *,
        factory: SessionFactory,
        store: MediaStore,
        registry: ProviderRegistry,
        config: Settings,
    ) -> None:
        self._factory = factory
        self._store = store
        self._registry = registry
        self._config = config

    async def snapshot(self, slot_id: str) -> IngestSnapshot:
        async with self._factory() as session:
            runtime = await load_runtime_settings(session)
            slot = await SlotRepository(session).get(slot_id)
        return IngestSnapshot(runtime=runtime, slot=slot)

    async def run(
        self,
        *,
        slot_id: str,
        snapshot: IngestSnapshot,
        form: IngestForm,
        deadline: Deadline,
        source: str,
        require_password: bool = True,
    ) -> IngestResult:
        """Validate (SPEC §3.2 order), admit, run the provider under the deadline,
        store the result. Raises a `PhotoChangerError` for every failure; by then
        the job, if one was created, has its final status."""
        file, password = validation.check_form(form)
        if require_password:
            validation.check_password(password, snapshot.runtime.ingest_password)
        slot = validation.check_slot(snapshot.slot, slot_id)
        upload = validation.check_image(file)
        driver, settings = self._resolve(slot)
        uses_templates = driver.operations[slot.operation].uses_templates

        mismatch = False
        if form.client_hash:
            mismatch = not validation.client_hash_matches(file, form.client_hash)
            if mismatch:
                log.warning("client_hash_mismatch", slot_id=slot.id, client_hash=form.client_hash)
        job = Job(
            id=secrets.token_urlsafe(18),
            slot_id=slot.id,
            source=source,
            status="pending",
            provider=slot.provider,
            operation=slot.operation,
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
            attempts=[],
        )
        await self._admit(job, snapshot.runtime)
        structlog.contextvars.bind_contextvars(job_id=job.id)

        try:
            ctx = JobContext(
                job_id=job.id,
                slot_id=slot.id,
                operation=slot.operation,
                settings=settings,
                image=InputImage(mime=upload.mime, size=file.size, data=file.data, path=file.path),
                deadline=deadline,
                templates=await self._load_templates(slot.id) if uses_templates else (),
            )
            result = await self._execute(driver, ctx)
            stored = await self._store_result(job, result, snapshot.runtime, deadline)
        except asyncio.CancelledError:
            await asyncio.shield(
                self._finish_failed(job, deadline, "failed", "interrupted", "request cancelled")
            )
            raise
        except PhotoChangerError as error:
            status = "timeout" if isinstance(error, ProviderTimedOut) else "failed"
            await self._finish_failed(job, deadline, status, error.failure_reason, error.details)
            raise
        except Exception:
            log.exception("ingest_crashed")
            await self._finish_failed(job, deadline, "failed", "internal_error", "unexpected error")
            raise InternalError("unexpected error while finishing the job") from None
        return stored

    def _resolve(self, slot: Slot) -> tuple[ProviderDriver, OperationSettings]:
        try:
            driver = self._registry.get(slot.provider)
            settings = self._registry.parse_settings(slot.provider, slot.operation, slot.settings)
        except UnknownOperation:
            raise ServiceUnavailable(
                f"provider {slot.provider!r} is not available for {slot.id}"
            ) from None
        except ValidationError:
            raise ServiceUnavailable(f"{slot.id} has invalid provider settings") from None
        return driver, settings

    async def _load_templates(self, slot_id: str) -> list[TemplateImage]:
        async with self._factory() as session:
            files = await SlotRepository(session).template_files(slot_id)
        try:
            return [
                TemplateImage(role=role, mime=mime, data=await self._store.read(key))
                for role, key, mime in files
            ]
        except OSError:
            log.exception("template_unreadable", slot_id=slot_id)
            raise ServiceUnavailable("a template image of this slot cannot be read") from None

    async def _admit(self, job: Job, runtime: RuntimeSettings) -> None:
        """Count and insert under the admission lock, so the limits hold across
        replicas. A full limit answers 429 at once (SPEC §3.5)."""
        retry_after = 2
        async with serialized_unit_of_work(self._factory) as session:
            jobs = JobRepository(session)
            now = utcnow()
            in_slot, for_provider = await jobs.count_live_pending(
                now=now, slot_id=job.slot_id, provider=job.provider
            )
            if in_slot >= runtime.slot_concurrency_limit:
                raise RateLimited(
                    f"{job.slot_id} is processing {in_slot} photos, its limit",
                    retry_after=retry_after,
                )
            if for_provider >= runtime.provider_concurrency_limit:
                raise RateLimited(
                    f"provider {job.provider} is processing {for_provider} photos, its limit",
                    retry_after=retry_after,
                )
            jobs.add(job)

    async def _execute(self, driver: ProviderDriver, ctx: JobContext) -> ProviderResult:
        """The provider call under the one deadline. Retries and fallback (SPEC
        §3.5) belong here, inside the same window."""
        try:
            async with asyncio.timeout(ctx.deadline.remaining()):
                return await driver.edit(ctx)
        except TimeoutError:
            raise ProviderTimedOut(
                f"no result within the {ctx.deadline.window_seconds:.0f} s window"
            ) from None
        except ProviderNotConfigured as exc:
            raise ServiceUnavailable(exc.message) from None
        except ProviderError as exc:
            log.warning("provider_failed", provider=driver.name.value, error=exc.message)
            raise ProviderFailed(exc.message) from None
        except Exception:
            log.exception("provider_crashed", provider=driver.name.value)
            raise InternalError("the provider failed unexpectedly") from None

    async def _store_result(
        self, job: Job, result: ProviderResult, runtime: RuntimeSettings, deadline: Deadline
    ) -> IngestResult:
        mime = await result_mime_from_bytes(result)
        if mime is None:
            raise ProviderFailed("the provider returned no usable image")
        if mime != result.mime:
            log.warning("provider_mime_corrected", declared=result.mime[:40], actual=mime)
        key = result_key(job.id, job.started_at, mime)
        try:
            if result.data is not None:
                size = await self._store.put_bytes(key, result.data)
            else:
                assert result.path is not None
                size = await self._store.put_file(key, result.path)
        except OSError:
            log.exception("media_store_failed")
            raise ServiceUnavailable("the media store is unavailable") from None
        finished = utcnow()
        expires = finished + timedelta(hours=runtime.result_ttl_hours)
        async with write_unit_of_work(self._factory) as session:
            MediaRepository(session).add(
                kind="result",
                key=key,
                size=size,
                mime=mime,
                job_id=job.id,
                slot_id=job.slot_id,
                expires_at=expires,
            )
            await session.flush()
            done = await JobRepository(session).finish(
                job.id,
                "done",
                **self._final_times(deadline, finished),
                produced_by=job.provider,
                result_key=key,
                result_mime=mime,
                result_size=size,
                result_expires_at=expires,
            )
            if not done:
                raise InternalError("the job was closed by another process")
        return IngestResult(
            job_id=job.id,
            slot_id=job.slot_id,
            mime=mime,
            size=size,
            result_key=key,
            result_url=f"{self._config.public_base_url}/public/results/{job.id}",
            started_at=job.started_at,
            expires_at=expires,
            data=result.data,
        )

    async def _finish_failed(
        self, job: Job, deadline: Deadline, status: str, reason: str, details: str
    ) -> None:
        try:
            async with write_unit_of_work(self._factory) as session:
                await JobRepository(session).finish(
                    job.id,
                    status,
                    failure_reason=reason,
                    failure_details=details[:2000],
                    **self._final_times(deadline, utcnow()),
                )
        except Exception:
            # Start-up recovery closes it if we cannot now.
            log.exception("job_finish_failed", job_id=job.id)

    @staticmethod
    def _final_times(deadline: Deadline, finished: datetime) -> dict[str, Any]:
        duration = int((finished - deadline.started_at).total_seconds() * 1000)
        return {"finished_at": finished, "duration_ms": max(0, duration)}


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
