"""A fresh install shows the local provider at its best: background replacement.

slot-001 puts the guests on a studio backdrop, slot-002 blurs their background,
slot-003 draws a cartoon, slot-004 a pencil sketch, slot-005 enhances. Only slots
still exactly as 0001 seeded them are changed: an admin's configuration wins.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SHOWCASE = {
    "slot-001": ("Studio backdrop", "background_replace", {"background": "studio"}),
    "slot-002": ("Blurred background", "background_replace", {"background": "blur"}),
    "slot-003": ("Cartoon", "stylize", {"style": "cartoon"}),
    "slot-004": ("Pencil sketch", "stylize", {"style": "pencil"}),
    "slot-005": ("Enhance", "enhance", {}),
}
SEEDED_0001 = {
    "slot-001": ("Cartoon", "stylize", {"style": "cartoon"}),
    "slot-002": ("Pencil sketch", "stylize", {"style": "pencil"}),
    "slot-003": ("Warm colour grade", "stylize", {"style": "color_grade", "grade": "warm"}),
    "slot-004": ("Slot 4", "stylize", {"style": "color_grade", "grade": "natural"}),
    "slot-005": ("Slot 5", "stylize", {"style": "color_grade", "grade": "natural"}),
}

slot = sa.table(
    "slot",
    sa.column("id", sa.String),
    sa.column("name", sa.String),
    sa.column("provider", sa.String),
    sa.column("operation", sa.String),
    sa.column("settings", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
    sa.column("version", sa.Integer),
    sa.column("updated_by", sa.String),
)


def _move(
    source: dict[str, tuple[str, str, dict[str, str]]],
    target: dict[str, tuple[str, str, dict[str, str]]],
) -> None:
    connection = op.get_bind()
    for slot_id, (name, operation, settings) in target.items():
        old_name, old_operation, _ = source[slot_id]
        connection.execute(
            sa.update(slot)
            .where(
                slot.c.id == slot_id,
                slot.c.provider == "local",
                slot.c.name == old_name,
                slot.c.operation == old_operation,
                slot.c.version == 1,
                slot.c.updated_by == "system",
            )
            .values(name=name, operation=operation, settings=settings)
        )


def upgrade() -> None:
    _move(SEEDED_0001, SHOWCASE)


def downgrade() -> None:
    _move(SHOWCASE, SEEDED_0001)
