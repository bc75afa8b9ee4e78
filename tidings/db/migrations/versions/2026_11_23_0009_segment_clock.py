"""Segment clock: per (segment, profile), the next instant its membership can change with time.

Revision ID: 0009_segment_clock
Revises: 0007_lists_segments
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_segment_clock"
down_revision = "0007_lists_segments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "segment_clock",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("segment_id", sa.String(32), nullable=False),
        sa.Column("profile_id", sa.String(26), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "segment_id", "profile_id", name=op.f("pk_segment_clock")),
    )
    # The tick looks for due rows across accounts; one index scan however many accounts.
    op.create_index("ix_segment_clock_due_at", "segment_clock", ["due_at"])
    op.create_index("ix_segment_clock_account_id_profile_id", "segment_clock", ["account_id", "profile_id"])


def downgrade() -> None:
    op.drop_table("segment_clock")
