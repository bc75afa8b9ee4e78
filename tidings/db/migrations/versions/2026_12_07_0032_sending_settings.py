"""Delivery: each account's sending settings (smart sending windows, SMS quiet hours), and the
end of each attempt's smart sending window on the ledger row.

Revision ID: 0032_sending_settings
Revises: 0031_catalog_purchases
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032_sending_settings"
down_revision = "0031_catalog_purchases"
branch_labels = None
depends_on = None

DEFAULT_HOURS = {"email": 16, "sms": 24, "push": 24}  # Klaviyo's defaults, as the rows were gated


def upgrade() -> None:
    op.create_table(
        "sending_settings",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("email_smart_sending_hours", sa.Integer(), nullable=False),
        sa.Column("sms_smart_sending_hours", sa.Integer(), nullable=False),
        sa.Column("push_smart_sending_hours", sa.Integer(), nullable=False),
        sa.Column("sms_quiet_hours_start", sa.String(5), nullable=False),
        sa.Column("sms_quiet_hours_end", sa.String(5), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_sending_settings")),
    )
    with op.batch_alter_table("message_sends") as batch:
        batch.add_column(sa.Column("smart_until", sa.DateTime(timezone=True), nullable=True))
    # Attempts made before: the window they were gated with.
    bind = op.get_bind()
    for channel, hours in DEFAULT_HOURS.items():
        if bind.dialect.name == "postgresql":
            until = f"sending_at + interval '{hours} hours'"
        else:
            # SQLAlchemy's text form, 'YYYY-MM-DD HH:MM:SS.ffffff': whole hours keep the fraction.
            until = f"strftime('%Y-%m-%d %H:%M:%S', sending_at, '+{hours} hours') || substr(sending_at, 20)"
        op.execute(
            f"UPDATE message_sends SET smart_until = {until} "  # noqa: S608 (constants only)
            f"WHERE sending_at IS NOT NULL AND channel = '{channel}'"
        )


def downgrade() -> None:
    with op.batch_alter_table("message_sends") as batch:
        batch.drop_column("smart_until")
    op.drop_table("sending_settings")
