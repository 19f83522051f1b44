"""Issue 19: logouts that revoke their token, and the ingest password's lockout.

- `revoked_token`: the `jti` of an admin token ended by `POST /api/logout`,
  kept until the token would have expired.
- `ingest_failure`: one row per ingest refused for a wrong password, by client
  address; ten within 15 minutes lock that address out of the ingest.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revoked_token",
        sa.Column("jti", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_revoked_token")),
    )
    op.create_index("ix_revoked_token_expires_at", "revoked_token", ["expires_at"])
    op.create_table(
        "ingest_failure",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_failure")),
    )
    op.create_index("ix_ingest_failure_ip", "ingest_failure", ["ip", "failed_at"])


def downgrade() -> None:
    op.drop_table("ingest_failure")
    op.drop_table("revoked_token")
