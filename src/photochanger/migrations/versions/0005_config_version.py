"""`config_version`: a counter every change to a slot or a setting bumps, by
trigger, so an ingest can tell in its admission whether the configuration it read
earlier is still current (SPEC §3.4: changes apply to the next ingest).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# A later SQLite migration that rebuilds one of these tables (Alembic's batch mode
# copies it into a new table) drops its triggers: create them again there.
TABLES = ("slot", "setting")
EVENTS = ("INSERT", "UPDATE", "DELETE")
BUMP = "UPDATE config_version SET value = value + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "config_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_config_version_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_version")),
    )
    op.execute("INSERT INTO config_version (id, value) VALUES (1, 1)")
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION bump_config_version() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER trg_{table}_config_version "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION bump_config_version()"
            )
        return
    for table in TABLES:
        for event in EVENTS:
            op.execute(
                f"CREATE TRIGGER trg_{table}_config_version_{event.lower()} "
                f"AFTER {event} ON {table} BEGIN {BUMP}; END"
            )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER trg_{table}_config_version ON {table}")
        op.execute("DROP FUNCTION bump_config_version()")
    else:
        for table in TABLES:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER trg_{table}_config_version_{event.lower()}")
    op.drop_table("config_version")
