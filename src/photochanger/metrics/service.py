"""`Metrics`: the series of SPEC §8 in one `CollectorRegistry` per app (two apps in
one process, as the tests run them, never share a number). They are recorded
where an outcome is already decided: the ingest's answer, each provider call
once it is on the job's attempt record, an admission refused, a cleanup's
summary. What the media store holds is read from the database when Prometheus
scrapes, so every replica reports the same numbers.

Every label value is bounded: the id of a slot that exists (`unknown` for
anything else a URL names), the registry's provider names, and fixed codes;
never a job id, never a string a client sent."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Literal

import structlog
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import DBAPIError

from photochanger import __version__
from photochanger.db import Database
from photochanger.errors import (
    InternalError,
    PhotoChangerError,
    ProviderFailed,
    ProviderTimedOut,
    ServiceUnavailable,
)
from photochanger.metrics.repository import MediaUsageRepository

log = structlog.get_logger("photochanger.metrics")

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The classic text format, which every Prometheus version reads."""
UNKNOWN = "unknown"
"""The label of a slot or provider that is not one (a made-up URL)."""
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0, 30.0, 45.0, 60.0)
"""From a refused request (tens of milliseconds) to the longest sync window (60 s)."""
MEDIA_KINDS = ("result", "preview", "template", "provider_media")
"""`media_object.kind`; any other value is counted as `other`."""
CLEANED_KINDS = ("result", "preview", "provider_media")
"""What cleanup removes (never template media: cleanup.repository)."""
CLEANUP_OUTCOMES = ("ok", "incomplete", "failed")
"""`photochanger_cleanup_runs_total{outcome}`: every file deleted; some could not
be (left for the next run); the run itself failed (an exception)."""
CLIENT_GONE = 499
"""The `code` of an ingest whose client closed the connection (nginx's code)."""
CLIENT_GONE_REASON = "client_disconnected"
_SLOT_ID = re.compile(r"slot-\d{3}")  # the shape of every slot id (slots.repository)
_REASON = re.compile(r"[a-z_]{1,40}")
_ZERO_ANSWERS = (
    (200, ""),
    (ProviderFailed.status_code, ProviderFailed.failure_reason),
    (ServiceUnavailable.status_code, ServiceUnavailable.failure_reason),
    (ProviderTimedOut.status_code, ProviderTimedOut.failure_reason),
    (InternalError.status_code, InternalError.failure_reason),
)
"""Created at 0 for each slot's first ingest: `rate()` cannot see the first
increment of a series that appears at 1, so the first 504 would not count."""

RefusedLimit = Literal["slot", "provider"]


def ingest_outcome(code: int, degraded: bool) -> str:
    """The `outcome` label of an ingest answered with HTTP `code`."""
    if code == 200:
        return "degraded" if degraded else "done"
    if code == ProviderTimedOut.status_code:
        return "timeout"
    if code == CLIENT_GONE:
        return "disconnected"
    return "failed" if code >= 500 else "rejected"


def answer_of(error: BaseException) -> tuple[int, str]:
    """The HTTP status and `failure_reason` an ingest that raised `error` is
    answered with: the domain error's own, else what app.py's handlers render."""
    if isinstance(error, PhotoChangerError):
        return error.status_code, error.failure_reason
    if isinstance(error, asyncio.CancelledError):
        return CLIENT_GONE, CLIENT_GONE_REASON
    if isinstance(error, DBAPIError | OSError):
        return ServiceUnavailable.status_code, ServiceUnavailable.failure_reason
    return InternalError.status_code, InternalError.failure_reason


def degraded_kind(reason: str) -> str:
    """`provider_error:IMAGE_SAFETY` -> `provider_error`: the part we chose, not
    the provider's own words."""
    kind = reason.split(":", 1)[0]
    return kind if _REASON.fullmatch(kind) else "other"


class Metrics:
    """The app's series and their registry. `providers`: the names a `provider`
    label may take (the registry's); `media_disk`: the local media directory,
    whose file system's size and free space are reported (None for a bucket);
    `cleanup_enabled`: whether this process runs the periodic cleanup.

    Without arguments (a service built alone, the CLI's cleanup) it records into
    a registry nobody scrapes."""

    def __init__(
        self,
        *,
        providers: Collection[str] = (),
        media_disk: Path | None = None,
        cleanup_enabled: bool = False,
    ) -> None:
        self.registry = CollectorRegistry()
        self._providers = frozenset(providers)
        self._media_disk = media_disk
        self._slots_seen: set[tuple[str, str]] = set()
        self.cleanup_last_success: float | None = None
        """Unix time of the end of the last whole cleanup run (not one slot's) that
        deleted every file it claimed."""
        registry = self.registry
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        Info("photochanger_build", "The running release.", registry=registry).info(
            {"version": __version__}
        )
        self.ingest_duration = Histogram(
            "photochanger_ingest_duration_seconds",
            "Booth ingests from the first byte to the answer, by outcome.",
            ["slot", "provider", "outcome"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.ingests = Counter(
            "photochanger_ingests",
            "Booth ingests answered, by outcome, failure_reason and HTTP code.",
            ["slot", "provider", "outcome", "failure_reason", "code"],
            registry=registry,
        )
        self.ingests_degraded = Counter(
            "photochanger_ingest_degraded",
            "Booth ingests answered 200 with something other than the provider's edit "
            "(X-PhotoChanger-Degraded), by why.",
            ["slot", "provider", "reason"],
            registry=registry,
        )
        self.ingests_in_flight = Gauge(
            "photochanger_ingests_in_flight",
            "Booth ingests this process is working on.",
            ["slot"],
            registry=registry,
        )
        self.admissions_refused = Counter(
            "photochanger_admissions_refused",
            "Photos answered 429 because the slot's or the provider's limit was full.",
            ["slot", "provider", "limit"],
            registry=registry,
        )
        self.provider_calls = Histogram(
            "photochanger_provider_call_duration_seconds",
            "Provider calls (booth ingests and test runs), by how they ended.",
            ["provider", "outcome"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.provider_retries = Counter(
            "photochanger_provider_retries",
            "Provider calls tried again, by how the call that was retried ended.",
            ["provider", "outcome"],
            registry=registry,
        )
        self.cleanup_runs = Counter(
            "photochanger_cleanup_runs",
            "Cleanup runs in this process (periodic and admin-triggered).",
            ["outcome"],
            registry=registry,
        )
        self.cleanup_removed_objects = Counter(
            "photochanger_cleanup_removed_objects",
            "Media objects cleanup marked removed, by kind.",
            ["kind"],
            registry=registry,
        )
        self.cleanup_removed_bytes = Counter(
            "photochanger_cleanup_removed_bytes",
            "Bytes of the files cleanup deleted, by kind.",
            ["kind"],
            registry=registry,
        )
        self.cleanup_failed_objects = Counter(
            "photochanger_cleanup_failed_objects",
            "Files cleanup could not delete (left for the next run), by kind.",
            ["kind"],
            registry=registry,
        )
        enabled = Gauge(
            "photochanger_cleanup_enabled",
            "1 when this process runs the periodic cleanup (PHOTOCHANGER_CLEANUP_ENABLED).",
            registry=registry,
        )
        enabled.set(1 if cleanup_enabled else 0)
        for outcome in CLEANUP_OUTCOMES:
            self.cleanup_runs.labels(outcome=outcome)
        for kind in CLEANED_KINDS:
            self.cleanup_removed_objects.labels(kind=kind)
            self.cleanup_removed_bytes.labels(kind=kind)
            self.cleanup_failed_objects.labels(kind=kind)

    # --- labels -----------------------------------------------------------------

    def slot_label(self, slot_id: str) -> str:
        return slot_id if _SLOT_ID.fullmatch(slot_id) else UNKNOWN

    def provider_label(self, provider: str) -> str:
        return provider if provider in self._providers else UNKNOWN

    # --- recording --------------------------------------------------------------

    def ingest_meter(self, started: float, *, counted: bool = True) -> IngestMeter:
        """The meter of one ingest that arrived at `started` (`time.monotonic()`);
        one that is not `counted` (an admin's test run) records nothing."""
        return IngestMeter(self if counted else None, started)

    def ingest_answered(
        self,
        slot: str,
        provider: str,
        code: int,
        failure_reason: str,
        degraded_reason: str | None,
        seconds: float,
    ) -> None:
        """One booth ingest answered; `slot` and `provider` are labels already."""
        if (slot, provider) not in self._slots_seen:
            self._slots_seen.add((slot, provider))
            for zero_code, zero_reason in _ZERO_ANSWERS:
                self.ingests.labels(
                    slot=slot,
                    provider=provider,
                    outcome=ingest_outcome(zero_code, False),
                    failure_reason=zero_reason,
                    code=str(zero_code),
                )
        outcome = ingest_outcome(code, degraded_reason is not None)
        self.ingest_duration.labels(slot=slot, provider=provider, outcome=outcome).observe(seconds)
        self.ingests.labels(
            slot=slot,
            provider=provider,
            outcome=outcome,
            failure_reason=failure_reason,
            code=str(code),
        ).inc()
        if degraded_reason is not None:
            self.ingests_degraded.labels(
                slot=slot, provider=provider, reason=degraded_kind(degraded_reason)
            ).inc()

    def admission_refused(self, slot_id: str, provider: str, limit: RefusedLimit) -> None:
        self.admissions_refused.labels(
            slot=self.slot_label(slot_id), provider=self.provider_label(provider), limit=limit
        ).inc()

    def provider_call(self, provider: str, outcome: str, seconds: float, *, retried: bool) -> None:
        """One provider call as the job's attempts record it; `retried`: the next
        attempt calls the same provider configuration again."""
        provider = self.provider_label(provider)
        outcome = outcome if _REASON.fullmatch(outcome) else "other"
        self.provider_calls.labels(provider=provider, outcome=outcome).observe(seconds)
        if retried:
            self.provider_retries.labels(provider=provider, outcome=outcome).inc()

    def cleanup_finished(
        self,
        removed: Mapping[str, tuple[int, int]],
        *,
        failed: Mapping[str, int],
        whole: bool,
    ) -> None:
        """A cleanup run's summary: kind -> (objects, bytes) removed, and kind ->
        files it could not delete. `whole`: it covered every slot, so it counts
        as the last cleanup, unless a file could not be deleted: a run that left
        files behind is `incomplete`, never a success."""
        left_behind = sum(failed.values())
        self.cleanup_runs.labels(outcome="incomplete" if left_behind else "ok").inc()
        for kind, (count, size) in removed.items():
            label = kind if kind in MEDIA_KINDS else "other"
            self.cleanup_removed_objects.labels(kind=label).inc(count)
            self.cleanup_removed_bytes.labels(kind=label).inc(size)
        for kind, count in failed.items():
            label = kind if kind in MEDIA_KINDS else "other"
            self.cleanup_failed_objects.labels(kind=label).inc(count)
        if whole and not left_behind:
            self.cleanup_last_success = time.time()

    def cleanup_failed(self) -> None:
        self.cleanup_runs.labels(outcome="failed").inc()

    # --- exposition -------------------------------------------------------------

    async def scrape(self, database: Database) -> bytes:
        """The text exposition, with what the media store holds read now (one
        grouped query) and the media disk's usage."""
        families: list[Metric] = []
        try:
            usage = await database.read(lambda c: MediaUsageRepository(c).live_by_kind())
        except (DBAPIError, OSError) as error:
            # The rest still answers; an absent series is what an alert can see.
            log.warning("metrics_media_unreadable", error=type(error).__name__)
        else:
            families.extend(_media_families(usage))
        if self._media_disk is not None:
            disk = await asyncio.to_thread(_disk_usage, self._media_disk)
            if disk is not None:
                families.extend(disk)
        if self.cleanup_last_success is not None:
            families.append(
                GaugeMetricFamily(
                    "photochanger_cleanup_last_success_timestamp_seconds",
                    "Unix time the last whole cleanup run in this process that deleted "
                    "every expired file ended.",
                    value=self.cleanup_last_success,
                )
            )
        return generate_latest(_Scrape(self.registry, families))


class IngestMeter:
    """One booth ingest, from its arrival to its answer: in flight under its
    slot once the slot is known to exist, then counted with its outcome when
    the `with` block ends, whatever ended it."""

    def __init__(self, metrics: Metrics | None, started: float) -> None:
        self._metrics = metrics
        self._started = started
        self._slot = UNKNOWN
        self._provider = UNKNOWN
        self._in_flight: Gauge | None = None
        self._code: int | None = None
        self._failure_reason = ""
        self._degraded_reason: str | None = None

    def slot_found(self, slot_id: str, provider: str) -> None:
        """The slot the URL names exists (it was read from the database): its id
        and provider become the labels."""
        if self._metrics is None or self._in_flight is not None:
            return
        self._slot = self._metrics.slot_label(slot_id)
        self._provider = self._metrics.provider_label(provider)
        self._in_flight = self._metrics.ingests_in_flight.labels(slot=self._slot)
        self._in_flight.inc()

    def answered(self, degraded_reason: str | None) -> None:
        self._code, self._degraded_reason = 200, degraded_reason

    def client_gone(self) -> None:
        self._code, self._failure_reason = CLIENT_GONE, CLIENT_GONE_REASON

    def __enter__(self) -> IngestMeter:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if self._metrics is None:
            return
        if self._in_flight is not None:
            self._in_flight.dec()
        code, reason = self._code or 200, self._failure_reason
        if error is not None and self._code != CLIENT_GONE:
            code, reason = answer_of(error)
        self._metrics.ingest_answered(
            self._slot,
            self._provider,
            code,
            reason,
            self._degraded_reason if code == 200 else None,
            time.monotonic() - self._started,
        )


class _Scrape(Collector):
    """The registry plus the families read for this scrape, without the
    `_created` samples prometheus_client adds to counters and histograms (the
    text format turns each into a second series that nothing reads)."""

    def __init__(self, registry: CollectorRegistry, families: Iterable[Metric]) -> None:
        self._registry = registry
        self._families = families

    def collect(self) -> Iterator[Metric]:
        for metric in self._registry.collect():
            metric.samples = [s for s in metric.samples if not s.name.endswith("_created")]
            yield metric
        yield from self._families


def _media_families(usage: Mapping[str, tuple[int, int]]) -> list[Metric]:
    counts = dict.fromkeys(MEDIA_KINDS, (0, 0))
    for kind, (objects, size) in usage.items():
        label = kind if kind in MEDIA_KINDS else "other"
        before = counts.get(label, (0, 0))
        counts[label] = (before[0] + objects, before[1] + size)
    objects_family = GaugeMetricFamily(
        "photochanger_media_objects",
        "Files in the media store (not yet cleaned up), by kind.",
        labels=["kind"],
    )
    bytes_family = GaugeMetricFamily(
        "photochanger_media_bytes",
        "Bytes in the media store (not yet cleaned up), by kind.",
        labels=["kind"],
    )
    for kind, (objects, size) in counts.items():
        objects_family.add_metric([kind], objects)
        bytes_family.add_metric([kind], size)
    return [objects_family, bytes_family]


def _disk_usage(path: Path) -> list[Metric] | None:
    try:
        usage = shutil.disk_usage(path)
    except OSError as error:
        log.warning("metrics_disk_unreadable", error=type(error).__name__)
        return None
    return [
        GaugeMetricFamily(
            "photochanger_media_disk_total_bytes",
            "Size of the file system the local media store is on.",
            value=usage.total,
        ),
        GaugeMetricFamily(
            "photochanger_media_disk_free_bytes",
            "Space on the media store's file system that the app may still use.",
            value=usage.free,
        ),
    ]
