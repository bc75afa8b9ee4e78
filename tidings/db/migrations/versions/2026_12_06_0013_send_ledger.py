"""The send ledger: one row per intended delivery.

Revision ID: 0013_send_ledger
Revises: 0012_feed_chunks
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_send_ledger"
down_revision = "0012_feed_chunks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_sends",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("profile_id", sa.String(26), nullable=False),
        sa.Column("source_kind", sa.String(20), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=True),
        sa.Column("run_id", sa.String(26), nullable=True),
        sa.Column("visit", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("resends", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("content_sha256", sa.String(64), nullable=True),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("provider_ref", sa.String(255), nullable=True),
        sa.Column("lease_token", sa.String(26), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("planned_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sending_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_message_sends")),
        sa.UniqueConstraint(
            "account_id", "idempotency_key", name=op.f("uq_message_sends_account_id_idempotency_key")
        ),
    )
    op.create_index("ix_message_sends_due", "message_sends", ["account_id", "status", "planned_for"])
    op.create_index("ix_message_sends_leases", "message_sends", ["status", "claimed_until"])
    op.create_index("ix_message_sends_source", "message_sends", ["account_id", "source_kind", "source_id"])
    op.create_index(
        "ix_message_sends_profile", "message_sends", ["account_id", "profile_id", "channel", "sending_at"]
    )


def downgrade() -> None:
    op.drop_table("message_sends")
