"""Campaign send jobs and recipient estimations.

Revision ID: 0026_campaign_sends
Revises: 0025_webhooks
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026_campaign_sends"
down_revision = "0025_webhooks"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _campaign_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id", "id"],
        ["campaigns.account_id", "campaigns.id"],
        name=op.f(f"fk_{table}_account_id_id_campaigns"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "campaign_send_jobs",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=True),
        sa.Column("first_due", TS, nullable=True),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("planned_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
        _campaign_key("campaign_send_jobs"),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_campaign_send_jobs")),
    )
    op.create_table(
        "campaign_recipient_estimations",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("estimated_recipient_count", sa.Integer(), nullable=True),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("estimated_at", TS, nullable=True),
        _campaign_key("campaign_recipient_estimations"),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_campaign_recipient_estimations")),
    )


def downgrade() -> None:
    op.drop_table("campaign_recipient_estimations")
    op.drop_table("campaign_send_jobs")
