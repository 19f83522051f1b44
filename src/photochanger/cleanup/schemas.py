from __future__ import annotations

from pydantic import BaseModel, Field


class RemovedKind(BaseModel):
    count: int = Field(description="Rows marked cleaned (files gone, or already missing).")
    bytes: int = Field(description="Bytes of the files deleted by this run.")


class CleanupSummary(BaseModel):
    """What one cleanup run removed."""

    slot_id: str | None = Field(description="The slot cleaned, or null for all.")
    removed: dict[str, RemovedKind] = Field(
        description="Per kind: `result`, `preview`, `provider_media`."
    )
    missing_files: int = Field(description="Rows whose file was already gone (still marked).")
    failed: int = Field(description="Files that could not be deleted; left for the next run.")
    login_failures_pruned: int = Field(
        description="Failed logins and wrong ingest passwords older than a day removed."
    )
    duration_ms: int

    @property
    def total_count(self) -> int:
        return sum(kind.count for kind in self.removed.values())

    @property
    def total_bytes(self) -> int:
        return sum(kind.bytes for kind in self.removed.values())
