"""Delivery: each account's UTM tracking settings.

Revision ID: 0015_tracking_settings
Revises: 0014_delivery_messages
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0015_tracking_settings"
down_revision = "0014_delivery_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracking_settings",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_tracking_settings")),
    )


def downgrade() -> None:
    op.drop_table("tracking_settings")
