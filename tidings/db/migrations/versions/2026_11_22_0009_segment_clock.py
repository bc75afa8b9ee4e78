"""Segment clock: per (segment, profile), the next instant its membership can change with time.

Revision ID: 0009_segment_clock
Revises: 0008_profile_imports
Create Date: 2026-11-22
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tidings.db.ids import ulid

revision = "0009_segment_clock"
down_revision = "0008_profile_imports"
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
    # Segments built before the clock have no instants: rebuild each active one once, which
    # computes them (and applies what time changed meanwhile).
    segments = sa.table("segments", sa.column("account_id"), sa.column("id"), sa.column("is_active"))
    found = op.get_bind().execute(sa.select(segments.c.account_id, segments.c.id).where(segments.c.is_active))
    now = dt.datetime.now(dt.UTC)
    jobs = sa.table(
        "jobs",
        sa.column("account_id"),
        sa.column("id"),
        sa.column("name"),
        sa.column("payload", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
        sa.column("status"),
        sa.column("attempts"),
        sa.column("max_attempts"),
        sa.column("run_at", sa.DateTime(timezone=True)),
        sa.column("created", sa.DateTime(timezone=True)),
    )
    rows = [
        {
            "account_id": account_id,
            "id": ulid(),
            "name": "segments.build",
            "payload": {"segment_id": segment_id},
            "status": "queued",
            "attempts": 0,
            "max_attempts": 10,
            "run_at": now,
            "created": now,
        }
        for account_id, segment_id in found
    ]
    if rows:
        op.bulk_insert(jobs, rows)


def downgrade() -> None:
    op.drop_table("segment_clock")
