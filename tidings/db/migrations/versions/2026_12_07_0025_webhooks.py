"""Outbound webhooks: endpoints, topics, matched events, the outbox, batches and attempts.

Revision ID: 0025_webhooks
Revises: 0024_flows
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0025_webhooks"
down_revision = "0024_flows"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)
WEBHOOK_FK = (["account_id", "webhook_id"], ["webhooks.account_id", "webhooks.id"])


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("endpoint_url", sa.Text(), nullable=False),
        sa.Column("secret_key", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("retry_at", TS, nullable=True),
        sa.Column("disabled_at", TS, nullable=True),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("claimed_until", TS, nullable=True),
        sa.Column("lease_token", sa.String(26), nullable=True),
        sa.Column("created", TS, nullable=False),
        sa.Column("updated", TS, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "id"),
    )
    op.create_table(
        "webhook_subscriptions",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("webhook_id", sa.String(26), nullable=False),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(*WEBHOOK_FK, ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "webhook_id", "topic"),
    )
    op.create_table(
        "webhook_matches",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("event_id", sa.String(26), nullable=False),
        sa.Column("webhook_ids", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "event_id"),
    )
    op.create_table(
        "webhook_outbox",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("webhook_id", sa.String(26), nullable=False),
        sa.Column("event_id", sa.String(26), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "webhook_id", "event_id"),
    )
    op.create_table(
        "webhook_batches",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("webhook_id", sa.String(26), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("event_ids", JSON, nullable=False),
        sa.Column("topics", JSON, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created", TS, nullable=False),
        sa.Column("delivered_at", TS, nullable=True),
        sa.ForeignKeyConstraint(*WEBHOOK_FK, ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "id"),
    )
    op.create_index(
        "ix_webhook_batches_account_id_webhook_id_status",
        "webhook_batches",
        ["account_id", "webhook_id", "status"],
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("webhook_id", sa.String(26), nullable=False),
        sa.Column("batch_id", sa.String(26), nullable=False),
        sa.Column("attempted_at", TS, nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", TS, nullable=True),
        sa.ForeignKeyConstraint(*WEBHOOK_FK, ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "id"),
    )
    op.create_index(
        "ix_webhook_attempts_account_id_batch_id_id",
        "webhook_attempts",
        ["account_id", "batch_id", "id"],
    )


def downgrade() -> None:
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_batches")
    op.drop_table("webhook_outbox")
    op.drop_table("webhook_matches")
    op.drop_table("webhook_subscriptions")
    op.drop_table("webhooks")
