"""Delivery: open and click hits waiting to become events; a send's first open and click.

Revision ID: 0016_tracking_hits
Revises: 0015_tracking_settings
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_tracking_hits"
down_revision = "0015_tracking_settings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message_sends") as batch:
        batch.add_column(sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("clicked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "tracking_hits",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("send_id", sa.String(26), nullable=False),
        sa.Column("kind", sa.String(5), nullable=False),
        sa.Column("link", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("user_agent", sa.String(512), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("received", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_tracking_hits")),
    )
    op.create_index("ix_tracking_hits_received", "tracking_hits", ["received"])


def downgrade() -> None:
    op.drop_index("ix_tracking_hits_received", table_name="tracking_hits")
    op.drop_table("tracking_hits")
    with op.batch_alter_table("message_sends") as batch:
        batch.drop_column("clicked_at")
        batch.drop_column("opened_at")
