"""Issue 20: statistics rollups kept by triggers (`models/job_rollup.py`,
`models/job_rollup_sql.py`), summed from the jobs already there; the indexes
the statistics read before them dropped.

The triggers' SQL comes from `photochanger.models.job_rollup_sql`, which is part of the
schema from here on: a change to it needs a migration that recreates the
triggers (`tests/models/test_rollup_triggers.py` compares them).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from photochanger.models import job_rollup_sql as rollup_sql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

WINDOW_COLUMNS = [
    "source",
    "slot_id",
    "started_at",
    "status",
    "failure_reason",
    "duration_ms",
    "degraded_reason",
    "cost_micros",
]
NOT_CLEANED = sa.text("cleaned_at IS NULL")
COUNTS = (
    "jobs",
    "successes",
    "degraded",
    "timeouts",
    "provider_errors",
    "other_failures",
    "pending",
    "timed",
)


def _count_table(name: str, period: str) -> None:
    op.create_table(
        name,
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("slot_id", sa.String(32), nullable=False),
        *(sa.Column(column, sa.Integer(), nullable=False) for column in COUNTS),
        sa.Column("cost_micros", sa.BigInteger(), nullable=False),
        sa.Column("priced", sa.Integer(), nullable=False),
        sa.Column(period, sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("source", "slot_id", period, name=op.f(f"pk_{name}")),
    )


def upgrade() -> None:
    _count_table("job_minute_counts", "minute")
    _count_table("job_hour_counts", "hour")
    op.create_table(
        "job_hour_durations",
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("slot_id", sa.String(32), nullable=False),
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("bin", sa.SmallInteger(), nullable=False),
        sa.Column("jobs", sa.Integer(), nullable=False),
        sa.Column("min_ms", sa.Integer(), nullable=False),
        sa.Column("max_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "source", "slot_id", "hour", "bin", name=op.f("pk_job_hour_durations")
        ),
    )
    op.create_table(
        "job_minute_failures",
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("slot_id", sa.String(32), nullable=False),
        sa.Column("minute", sa.BigInteger(), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("jobs", sa.Integer(), nullable=False),
        sa.Column("last_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "source",
            "slot_id",
            "minute",
            "provider",
            "outcome",
            "reason",
            name=op.f("pk_job_minute_failures"),
        ),
    )
    bins = op.create_table(
        "duration_bin",
        sa.Column("bin", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("lo", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bin", name=op.f("pk_duration_bin")),
        sa.UniqueConstraint("lo", name=op.f("uq_duration_bin_lo")),
    )
    op.bulk_insert(bins, [{"bin": n, "lo": lo} for n, lo in enumerate(rollup_sql.duration_bins())])
    op.create_table(
        "media_usage",
        sa.Column("slot_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("files", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("slot_id", "kind", name=op.f("pk_media_usage")),
    )
    connection = op.get_bind()
    rollup_sql.create_triggers(connection)
    for statement in rollup_sql.rebuild_statements(connection.dialect.name):
        op.execute(statement)
    # The statistics no longer read these (0004): the rollups hold what they
    # covered, and every job written had to update them (the wide ix_job_window
    # on insert and again on finish; measured: about as much as the triggers add).
    op.drop_index("ix_job_window", table_name="job")
    op.drop_index("ix_media_object_live_size", table_name="media_object")


def downgrade() -> None:
    op.create_index("ix_job_window", "job", WINDOW_COLUMNS)
    op.create_index(
        "ix_media_object_live_size",
        "media_object",
        ["cleaned_at", "size"],
        sqlite_where=NOT_CLEANED,
        postgresql_where=NOT_CLEANED,
    )
    rollup_sql.drop_triggers(op.get_bind())
    for table in (*rollup_sql.ROLLUP_TABLES, "duration_bin"):
        op.drop_table(table)
