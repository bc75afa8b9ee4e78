"""Campaigns and campaign messages.

Revision ID: 0019_campaigns
Revises: 0018_sms_webhooks
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019_campaigns"
down_revision = "0018_sms_webhooks"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("builder", sa.String(20), nullable=False),
        sa.Column("audiences", JSON, nullable=False),
        sa.Column("send_options", JSON, nullable=False),
        sa.Column("tracking_options", JSON, nullable=True),
        sa.Column("send_strategy", JSON, nullable=False),
        sa.Column("extra", JSON, nullable=True),
        sa.Column("scheduled_at", TS, nullable=True),
        sa.Column("send_time", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_campaigns_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_campaigns")),
    )
    for column in ("created_at", "updated_at", "scheduled_at", "name"):
        op.create_index(f"ix_campaigns_account_id_{column}", "campaigns", ["account_id", column])

    op.create_table(
        "campaign_messages",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("campaign_id", sa.String(26), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("label", sa.String(255), nullable=True),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("template_id", sa.String(26), nullable=True),
        sa.Column("template_source_id", sa.String(26), nullable=True),
        sa.Column("template_name", sa.String(255), nullable=True),
        sa.Column("template_editor_type", sa.String(20), nullable=True),
        sa.Column("template_html", sa.Text(), nullable=True),
        sa.Column("template_text", sa.Text(), nullable=True),
        sa.Column("template_amp", sa.Text(), nullable=True),
        sa.Column("template_copied_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id", "campaign_id"],
            ["campaigns.account_id", "campaigns.id"],
            name=op.f("fk_campaign_messages_account_id_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_campaign_messages")),
    )
    op.create_index(
        "ix_campaign_messages_account_id_campaign_id", "campaign_messages", ["account_id", "campaign_id"]
    )


def downgrade() -> None:
    op.drop_table("campaign_messages")
    op.drop_table("campaigns")
