"""Campaign messages' images and A/B tests: a message's image, its A/B settings and winner, and
the variations beyond its default one (the message itself).

Revision ID: 0029_campaign_ab_tests
Revises: 0028_metrics_feeds
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0029_campaign_ab_tests"
down_revision = "0028_metrics_feeds"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("campaign_messages") as batch:
        batch.add_column(sa.Column("image_id", sa.String(26), nullable=True))
        batch.add_column(sa.Column("ab_test", JSON, nullable=True))
        batch.add_column(sa.Column("winner_id", sa.String(26), nullable=True))
        batch.add_column(sa.Column("winner_at", TS, nullable=True))
    op.create_table(
        "campaign_variations",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("campaign_id", sa.String(26), nullable=False),
        sa.Column("message_id", sa.String(26), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("content", JSON, nullable=False),
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
            ["account_id", "message_id"],
            ["campaign_messages.account_id", "campaign_messages.id"],
            name=op.f("fk_campaign_variations_account_id_message_id_campaign_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_campaign_variations")),
    )
    op.create_index(
        "ix_campaign_variations_account_id_message_id", "campaign_variations", ["account_id", "message_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_campaign_variations_account_id_message_id", table_name="campaign_variations")
    op.drop_table("campaign_variations")
    with op.batch_alter_table("campaign_messages") as batch:
        batch.drop_column("winner_at")
        batch.drop_column("winner_id")
        batch.drop_column("ab_test")
        batch.drop_column("image_id")
