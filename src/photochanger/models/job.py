from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.models.base import Base, JSONValue, UTCDateTime


class JobStatus(enum.StrEnum):
    """Where a job is; it moves once, from `pending` to one of the others (SPEC §3.4)."""

    pending = "pending"
    done = "done"
    timeout = "timeout"
    failed = "failed"


class JobSource(enum.StrEnum):
    """The door a job's photo came through."""

    ingest = "ingest"
    """The booth's ingest."""
    ui_test = "ui_test"
    """An admin's test run."""


class JobOutcome(enum.StrEnum):
    """How a job went, as the statistics count it: `done` split by whether the
    booth got the provider's edit or a degraded answer (SPEC §10)."""

    success = "success"
    """Done with the provider's edit."""
    degraded = "degraded"
    """Done, answered with the guest's own photo or a free fallback's."""
    failed = "failed"
    timeout = "timeout"
    pending = "pending"


def outcome_of(status: str, degraded_reason: str | None) -> JobOutcome:
    if status == JobStatus.done:
        return JobOutcome.success if degraded_reason is None else JobOutcome.degraded
    return JobOutcome(status)


PENDING = text("status = 'pending'")


class Job(Base):
    """One processing attempt: an ingest or an admin test run (SPEC §3.4)."""

    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_slot_started", "slot_id", "started_at"),
        Index("ix_job_started", "started_at"),
        Index("ix_job_status_started", "status", "started_at"),
        # Admission counts pending jobs per slot and per provider (SPEC §3.5).
        Index("ix_job_pending_slot", "slot_id", sqlite_where=PENDING, postgresql_where=PENDING),
        Index(
            "ix_job_pending_provider", "provider", sqlite_where=PENDING, postgresql_where=PENDING
        ),
        Index("ix_job_dedupe", "slot_id", "input_sha256", "started_at"),
        Index("ix_job_result_expires", "result_expires_at"),
        # The newest job of a slot per source and status: the statistics' last
        # success and last error, a few index probes (their counts are rollups).
        Index("ix_job_slot_outcome", "slot_id", "source", "status", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    slot_id: Mapped[str] = mapped_column(ForeignKey("slot.id"))
    source: Mapped[str] = mapped_column(String(16))
    """A `JobSource` value."""
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.pending)
    """A `JobStatus` value."""
    failure_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    failure_details: Mapped[str | None] = mapped_column(Text, nullable=True)
    provider: Mapped[str] = mapped_column(String(32))
    operation: Mapped[str] = mapped_column(String(64))
    slot_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The slot's version the job ran with; a re-sent photo reuses a result only
    of the same version (an edited prompt must not answer with the old look)."""
    instance_id: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    input_size: Mapped[int] = mapped_column(Integer)
    input_mime: Mapped[str] = mapped_column(String(32))
    input_sha1: Mapped[str] = mapped_column(String(40))
    input_sha256: Mapped[str] = mapped_column(String(64))
    client_hash: Mapped[str | None] = mapped_column(String(128), nullable=True)
    client_hash_mismatch: Mapped[bool] = mapped_column(Boolean, default=False)
    booth_metadata: Mapped[dict[str, str]] = mapped_column(JSONValue, default=dict)
    attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSONValue, default=list)
    produced_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    degraded_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Set on a `done` job whose answer is not the provider's edit (SPEC §10): the
    guest's own photo (`produced_by` `original`) or a free fallback's, and why."""
    cost_micros: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """Estimated cost of the job's provider calls in millionths of the price
    table's currency; null when no call reported priced usage."""
    sent_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Bytes of the photo as a remote provider got it; null when sent as uploaded."""
    sent_width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sent_height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    result_mime: Mapped[str | None] = mapped_column(String(32), nullable=True)
    result_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    preview_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
