"""API key changes: the revision every key revocation raises, which each process polls.

Revision ID: 0010_api_key_changes
Revises: 0009_segment_clock
Create Date: 2026-12-06
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0010_api_key_changes"
down_revision = "0009_segment_clock"
branch_labels = None
depends_on = None


def upgrade() -> None:
    changes = op.create_table(
        "api_key_changes",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key_changes")),
    )
    op.bulk_insert(changes, [{"id": 1, "revision": 0, "changed_at": dt.datetime.now(dt.UTC)}])


def downgrade() -> None:
    op.drop_table("api_key_changes")
