"""Delivery: what a send went to and carries, transactional message definitions, DKIM keys.

Revision ID: 0014_delivery_messages
Revises: 0013_send_ledger
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0014_delivery_messages"
down_revision = "0013_send_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message_sends") as batch:
        batch.add_column(sa.Column("event_id", sa.String(26), nullable=True))
        batch.add_column(sa.Column("recipient", sa.String(512), nullable=True))
        batch.add_column(sa.Column("sender", sa.String(512), nullable=True))
        batch.add_column(sa.Column("context", JSON, nullable=True))
    op.create_index("ix_message_sends_ready", "message_sends", ["status", "planned_for"])
    op.create_table(
        "delivery_api_messages",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_delivery_api_messages")),
    )
    op.create_table(
        "sending_domains",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("selector", sa.String(63), nullable=False),
        sa.Column("private_key_pem", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "domain", name=op.f("pk_sending_domains")),
    )


def downgrade() -> None:
    op.drop_table("sending_domains")
    op.drop_table("delivery_api_messages")
    op.drop_index("ix_message_sends_ready", table_name="message_sends")
    with op.batch_alter_table("message_sends") as batch:
        batch.drop_column("context")
        batch.drop_column("sender")
        batch.drop_column("recipient")
        batch.drop_column("event_id")
