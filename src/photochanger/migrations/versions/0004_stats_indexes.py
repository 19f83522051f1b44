"""Indexes for the statistics and the job log (SPEC §6.6: fast with millions of
jobs).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NOT_CLEANED = sa.text("cleaned_at IS NULL")
WINDOW_COLUMNS = ["source", "slot_id", "started_at", "status", "failure_reason", "duration_ms"]


def upgrade() -> None:
    # Covers every count, bucket and percentile over a time window: the
    # statistics read the index alone, one started_at range per slot (the
    # queries name the slots), never the job rows (bench/README.md).
    op.create_index("ix_job_window", "job", WINDOW_COLUMNS)
    # The newest job of a slot by source and status: last success, last error.
    op.create_index("ix_job_slot_outcome", "job", ["slot_id", "source", "status", "started_at"])
    # Storage used: the sum of the live files' sizes, read from the index alone.
    op.create_index(
        "ix_media_object_live_size",
        "media_object",
        # cleaned_at too, or SQLite does not see the index as covering.
        ["cleaned_at", "size"],
        sqlite_where=NOT_CLEANED,
        postgresql_where=NOT_CLEANED,
    )


def downgrade() -> None:
    op.drop_index("ix_media_object_live_size", table_name="media_object")
    op.drop_index("ix_job_slot_outcome", table_name="job")
    op.drop_index("ix_job_window", table_name="job")
