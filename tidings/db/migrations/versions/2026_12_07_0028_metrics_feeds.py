"""Custom metrics, mapped metrics and web feeds.

Revision ID: 0028_metrics_feeds
Revises: 0027_flow_runs
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0028_metrics_feeds"
down_revision = "0027_flow_runs"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def _account(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"], ["accounts.id"], name=op.f(f"fk_{table}_account_id_accounts"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "custom_metrics",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.Column("updated", TS, nullable=False),
        _account("custom_metrics"),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_custom_metrics")),
        sa.UniqueConstraint("account_id", "name", name=op.f("uq_custom_metrics_account_id_name")),
    )
    op.create_table(
        "mapped_metrics",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("metric_id", sa.String(6), nullable=True),
        sa.Column("custom_metric_id", sa.String(32), nullable=True),
        sa.Column("updated", TS, nullable=False),
        _account("mapped_metrics"),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_mapped_metrics")),
    )
    op.create_table(
        "web_feeds",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(12), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("request_method", sa.String(4), nullable=False),
        sa.Column("content_type", sa.String(4), nullable=False),
        sa.Column("status", sa.String(40), nullable=True),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("content", JSON, nullable=True),
        sa.Column("fetched_at", TS, nullable=True),
        sa.Column("attempted_at", TS, nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_refresh_at", TS, nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.Column("updated", TS, nullable=False),
        _account("web_feeds"),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_web_feeds")),
        sa.UniqueConstraint("account_id", "name", name=op.f("uq_web_feeds_account_id_name")),
    )
    op.create_index("ix_web_feeds_next_refresh_at", "web_feeds", ["next_refresh_at"])


def downgrade() -> None:
    op.drop_index("ix_web_feeds_next_refresh_at", table_name="web_feeds")
    op.drop_table("web_feeds")
    op.drop_table("mapped_metrics")
    op.drop_table("custom_metrics")
