"""Initial schema: slot, job, media_object, setting, template_media; the 15 slots.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
PENDING = sa.text("status = 'pending'")
NOT_CLEANED = sa.text("cleaned_at IS NULL")

# A fresh install answers with an edited photo at once: every slot is active on
# the offline `local` provider. The first three show its looks.
FIRST_SLOTS = {
    1: ("Cartoon", {"style": "cartoon"}),
    2: ("Pencil sketch", {"style": "pencil"}),
    3: ("Warm colour grade", {"style": "color_grade", "grade": "warm"}),
}


def upgrade() -> None:
    op.create_table(
        "slot",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("fallback", JSON, nullable=True),
        sa.Column("on_failure", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("size_limit_mb", sa.Integer(), nullable=False),
        sa.Column("max_input_megapixels", sa.Float(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot")),
    )
    op.create_table(
        "setting",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_setting")),
    )
    op.create_table(
        "job",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("slot_id", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.String(64), nullable=True),
        sa.Column("failure_details", sa.Text(), nullable=True),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("instance_id", sa.String(200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("input_size", sa.Integer(), nullable=False),
        sa.Column("input_mime", sa.String(32), nullable=False),
        sa.Column("input_sha1", sa.String(40), nullable=False),
        sa.Column("input_sha256", sa.String(64), nullable=False),
        sa.Column("client_hash", sa.String(128), nullable=True),
        sa.Column("client_hash_mismatch", sa.Boolean(), nullable=False),
        sa.Column("booth_metadata", JSON, nullable=False),
        sa.Column("attempts", JSON, nullable=False),
        sa.Column("produced_by", sa.String(32), nullable=True),
        sa.Column("degraded_reason", sa.String(64), nullable=True),
        sa.Column("result_key", sa.String(300), nullable=True),
        sa.Column("result_mime", sa.String(32), nullable=True),
        sa.Column("result_size", sa.Integer(), nullable=True),
        sa.Column("result_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("preview_key", sa.String(300), nullable=True),
        sa.ForeignKeyConstraint(["slot_id"], ["slot.id"], name=op.f("fk_job_slot_id_slot")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    op.create_index("ix_job_slot_started", "job", ["slot_id", "started_at"])
    op.create_index("ix_job_started", "job", ["started_at"])
    op.create_index("ix_job_status_started", "job", ["status", "started_at"])
    op.create_index(
        "ix_job_pending_slot", "job", ["slot_id"], sqlite_where=PENDING, postgresql_where=PENDING
    )
    op.create_index(
        "ix_job_pending_provider",
        "job",
        ["provider"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
    op.create_index("ix_job_dedupe", "job", ["slot_id", "input_sha256", "started_at"])
    op.create_index("ix_job_result_expires", "job", ["result_expires_at"])

    op.create_table(
        "media_object",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("mime", sa.String(64), nullable=False),
        sa.Column("job_id", sa.String(32), nullable=True),
        sa.Column("slot_id", sa.String(16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleaned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_media_object_job_id_job")),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slot.id"], name=op.f("fk_media_object_slot_id_slot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_object")),
        sa.UniqueConstraint("key", name=op.f("uq_media_object_key")),
    )
    op.create_index(
        "ix_media_object_expiring",
        "media_object",
        ["expires_at"],
        sqlite_where=NOT_CLEANED,
        postgresql_where=NOT_CLEANED,
    )
    op.create_index("ix_media_object_job", "media_object", ["job_id"])
    op.create_index("ix_media_object_slot_kind", "media_object", ["slot_id", "kind"])

    op.create_table(
        "template_media",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("slot_id", sa.String(16), nullable=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("media_object_id", sa.String(32), nullable=False),
        sa.Column("filename", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_object_id"],
            ["media_object.id"],
            name=op.f("fk_template_media_media_object_id_media_object"),
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slot.id"], name=op.f("fk_template_media_slot_id_slot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_media")),
    )
    op.create_index("ix_template_media_slot_role", "template_media", ["slot_id", "role"])

    slot = sa.table(
        "slot",
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("provider", sa.String),
        sa.column("operation", sa.String),
        sa.column("settings", JSON),
        sa.column("fallback", JSON),
        sa.column("on_failure", sa.String),
        sa.column("active", sa.Boolean),
        sa.column("size_limit_mb", sa.Integer),
        sa.column("max_input_megapixels", sa.Float),
        sa.column("version", sa.Integer),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        sa.column("updated_by", sa.String),
    )
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    rows = []
    for number in range(1, 16):
        name, settings = FIRST_SLOTS.get(
            number, (f"Slot {number}", {"style": "color_grade", "grade": "natural"})
        )
        rows.append(
            {
                "id": f"slot-{number:03d}",
                "name": name,
                "provider": "local",
                "operation": "stylize",
                "settings": settings,
                "fallback": None,
                "on_failure": "error",
                "active": True,
                "size_limit_mb": 20,
                "max_input_megapixels": 4.0,
                "version": 1,
                "updated_at": now,
                "updated_by": "system",
            }
        )
    op.bulk_insert(slot, rows)


def downgrade() -> None:
    op.drop_table("template_media")
    op.drop_table("media_object")
    op.drop_table("job")
    op.drop_table("setting")
    op.drop_table("slot")
