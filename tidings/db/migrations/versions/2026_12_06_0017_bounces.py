"""Delivery: bounces and complaints (what each send came back with) and the inbound reports.

Revision ID: 0017_bounces
Revises: 0014_delivery_messages
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0017_bounces"
down_revision = "0016_tracking_hits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message_sends") as batch:
        batch.add_column(sa.Column("bounce_type", sa.String(4), nullable=True))
        batch.add_column(sa.Column("bounced_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("complained_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_message_sends_message_id", "message_sends", ["message_id"])
    op.create_table(
        "delivery_inbound_reports",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("dedup_key", sa.String(255), nullable=False),
        sa.Column("envelope_to", sa.String(1024), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("payload", JSON, nullable=True),
        sa.Column("received", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(64), nullable=True),
        sa.Column("send_account_id", sa.String(6), nullable=True),
        sa.Column("send_id", sa.String(26), nullable=True),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_delivery_inbound_reports")),
        sa.UniqueConstraint(
            "account_id", "dedup_key", name=op.f("uq_delivery_inbound_reports_account_id_dedup_key")
        ),
    )
    op.create_index(
        "ix_delivery_inbound_reports_send", "delivery_inbound_reports", ["send_account_id", "send_id"]
    )


def downgrade() -> None:
    op.drop_table("delivery_inbound_reports")
    op.drop_index("ix_message_sends_message_id", table_name="message_sends")
    with op.batch_alter_table("message_sends") as batch:
        batch.drop_column("complained_at")
        batch.drop_column("bounced_at")
        batch.drop_column("bounce_type")
