"""What the job endpoints answer (SPEC §6.4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Row

from photochanger.media.links import preview_url, result_url
from photochanger.models.job import JobOutcome, JobSource, JobStatus, outcome_of
from photochanger.providers.pricing import micros_to_amount


@dataclass(frozen=True)
class JobFilter:
    """Which jobs the log shows (each field left None does not narrow it)."""

    slot_id: str | None = None
    status: JobStatus | None = None
    source: JobSource | None = None
    started_from: datetime | None = None
    """Inclusive."""
    started_to: datetime | None = None
    """Exclusive."""
    outcome: JobOutcome | None = None


class JobSummary(BaseModel):
    """One line of the job log."""

    id: str
    slot_id: str
    source: JobSource
    status: JobStatus
    outcome: JobOutcome = Field(
        description="`success` (done with the provider's edit), `degraded` (done with "
        "`degraded_reason`), `failed`, `timeout` or `pending`."
    )
    failure_reason: str | None
    degraded_reason: str | None = Field(
        description="Set on a done job whose answer is not the provider's edit, and why: "
        "`provider_error:IMAGE_SAFETY`, `timeout`, `budget`, …"
    )
    provider: str = Field(description="The slot's primary provider when the job started.")
    operation: str
    produced_by: str | None = Field(
        description="The provider that made the result (differs from `provider` after a "
        "fallback); `original` when the booth got the guest's own photo."
    )
    cost: float | None = Field(
        description="Estimated cost of its provider calls in the price table's currency; "
        "0 for free providers, null when no call reported priced usage."
    )
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    input_size: int
    input_mime: str
    result_mime: str | None
    result_size: int | None

    @classmethod
    def of(cls, row: Row[Any]) -> JobSummary:
        return cls.model_validate(summary_values(row))


def summary_values(row: Row[Any]) -> dict[str, Any]:
    """The row's columns with the `outcome` and the `cost` amount they give."""
    values = row._asdict()
    values["outcome"] = outcome_of(row.status, row.degraded_reason)
    micros = values.pop("cost_micros")
    values["cost"] = None if micros is None else micros_to_amount(micros)
    return values


class JobPage(BaseModel):
    jobs: list[JobSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next (older) page; null on the last page."
    )


class JobDetail(JobSummary):
    """Everything the job records, for the admin's job page."""

    failure_details: str | None
    slot_version: int | None
    deadline_at: datetime
    attempts: list[dict[str, Any]] = Field(
        description="Each provider call: provider, step, outcome, timings, and the "
        "`usage` it reported with its `cost_micros` (millionths of the currency)."
    )
    sent_size: int | None = Field(
        description="Bytes of the photo as a remote provider got it (downscaled, upright, "
        "without metadata); null when it went as uploaded."
    )
    sent_width: int | None
    sent_height: int | None
    input_sha1: str
    input_sha256: str
    client_hash: str | None
    client_hash_mismatch: bool
    booth_metadata: dict[str, str]
    result_expires_at: datetime | None
    public_result_url: str | None = Field(
        description="The public download link, while the result is kept (done, not expired)."
    )
    preview_url: str | None = Field(
        description="Its WebP preview (made on the first request), while the result is kept."
    )

    @classmethod
    def of_row(cls, row: Row[Any], *, public_base_url: str, now: datetime) -> JobDetail:
        values = summary_values(row)
        live = (
            row.status == JobStatus.done
            and row.result_key is not None
            and (row.result_expires_at is None or row.result_expires_at > now)
        )
        values["public_result_url"] = result_url(row.id, public_base_url) if live else None
        values["preview_url"] = preview_url(row.id, public_base_url) if live else None
        return cls.model_validate(values)
