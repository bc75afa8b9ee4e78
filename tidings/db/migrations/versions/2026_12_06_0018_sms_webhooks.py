"""SMS webhooks: find a send by Twilio's message SID, and the last SMS sent to a number.

Both indexes are partial (SMS rows only), so email sends, the bulk of the ledger, pay nothing.

Revision ID: 0018_sms_webhooks
Revises: 0014_delivery_messages
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_sms_webhooks"
down_revision = "0017_bounces"
branch_labels = None
depends_on = None

SMS_ONLY = sa.text("channel = 'sms'")


def upgrade() -> None:
    op.create_index(
        "ix_message_sends_sms_ref",
        "message_sends",
        ["provider_ref"],
        sqlite_where=SMS_ONLY,
        postgresql_where=SMS_ONLY,
    )
    op.create_index(
        "ix_message_sends_sms_recipient",
        "message_sends",
        ["recipient", "created"],
        sqlite_where=SMS_ONLY,
        postgresql_where=SMS_ONLY,
    )


def downgrade() -> None:
    op.drop_index("ix_message_sends_sms_recipient", table_name="message_sends")
    op.drop_index("ix_message_sends_sms_ref", table_name="message_sends")
