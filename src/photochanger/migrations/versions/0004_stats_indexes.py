"""Indexes for the statistics and the job log (SPEC §6.6: fast with millions of
jobs).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

WINDOW_COLUMNS = ["source", "started_at", "slot_id", "status", "failure_reason", "duration_ms"]


def upgrade() -> None:
    # Covers every count, bucket and percentile over a time window: the
    # statistics read the index alone, never the job rows (bench/README.md).
    op.create_index("ix_job_window", "job", WINDOW_COLUMNS)
    # The newest job of a slot by source and status: last success, last error.
    op.create_index("ix_job_slot_outcome", "job", ["slot_id", "source", "status", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_job_slot_outcome", table_name="job")
    op.drop_index("ix_job_window", table_name="job")
