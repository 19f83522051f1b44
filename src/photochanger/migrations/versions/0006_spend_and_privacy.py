"""SPEC §10: what a job cost and what it sent, a slot's privacy and budget.

- `job.cost_micros`: the estimated cost of every provider call the job made, in
  millionths of the price table's currency (exact sums on both databases);
  null while nothing priced was reported.
- `job.sent_size/sent_width/sent_height`: the photo as a remote provider got it
  (downscaled, upright, without metadata); null when it went as uploaded.
- `slot.keep_metadata`, `slot.daily_budget`.
- `ix_job_window` also covers `degraded_reason` and `cost_micros`, so the
  statistics count degraded answers and sum spend from the index alone.

Columns are added, never the table rebuilt: SQLite keeps the `config_version`
triggers of 0005.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OLD_WINDOW = ["source", "slot_id", "started_at", "status", "failure_reason", "duration_ms"]
NEW_WINDOW = [*OLD_WINDOW, "degraded_reason", "cost_micros"]


def upgrade() -> None:
    op.add_column(
        "slot",
        sa.Column("keep_metadata", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("slot", sa.Column("daily_budget", sa.Float(), nullable=True))
    op.add_column("job", sa.Column("cost_micros", sa.BigInteger(), nullable=True))
    op.add_column("job", sa.Column("sent_size", sa.Integer(), nullable=True))
    op.add_column("job", sa.Column("sent_width", sa.Integer(), nullable=True))
    op.add_column("job", sa.Column("sent_height", sa.Integer(), nullable=True))
    op.drop_index("ix_job_window", table_name="job")
    op.create_index("ix_job_window", "job", NEW_WINDOW)


def downgrade() -> None:
    op.drop_index("ix_job_window", table_name="job")
    op.create_index("ix_job_window", "job", OLD_WINDOW)
    for column in ("sent_height", "sent_width", "sent_size", "cost_micros"):
        op.drop_column("job", column)
    op.drop_column("slot", "daily_budget")
    op.drop_column("slot", "keep_metadata")
