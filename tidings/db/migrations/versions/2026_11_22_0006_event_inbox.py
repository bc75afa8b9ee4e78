"""Event ingestion: the inbox of accepted payloads and the dead letters.

Revision ID: 0006_event_inbox
Revises: 0005_profiles
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_event_inbox"
down_revision = "0005_profiles"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "event_inbox",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_event_inbox")),
    )
    op.create_index("ix_event_inbox_received", "event_inbox", ["received"])
    op.create_table(
        "event_failures",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("inbox_id", sa.String(26), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("item_pointer", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("received", TS, nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_event_failures")),
    )


def downgrade() -> None:
    op.drop_table("event_failures")
    op.drop_table("event_inbox")
