"""Events and metrics: metrics, the event store, metric properties.

Revision ID: 0002_events
Revises: 0001_foundation
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_events"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "metrics",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(6), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("integration_key", sa.String(64), nullable=False),
        sa.Column("integration", JSON, nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.Column("updated", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_metrics")),
        sa.UniqueConstraint(
            "account_id", "integration_key", "name", name=op.f("uq_metrics_account_id_integration_key_name")
        ),
    )
    op.create_table(
        "events",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("metric_id", sa.String(6), nullable=False),
        sa.Column("profile_id", sa.String(26), nullable=False),
        sa.Column("time", TS, nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("value_currency", sa.String(3), nullable=True),
        sa.Column("properties", JSON, nullable=False),
        sa.Column("unique_id", sa.String(255), nullable=False),
        sa.Column("backfill", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("received", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_events")),
        sa.UniqueConstraint(
            "account_id",
            "profile_id",
            "metric_id",
            "unique_id",
            name=op.f("uq_events_account_id_profile_id_metric_id_unique_id"),
        ),
    )
    op.create_index("ix_events_account_id_metric_id_time", "events", ["account_id", "metric_id", "time"])
    op.create_index("ix_events_account_id_profile_id_time", "events", ["account_id", "profile_id", "time"])
    op.create_index("ix_events_account_id_time", "events", ["account_id", "time"])
    op.create_table(
        "metric_properties",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("metric_id", sa.String(6), nullable=False),
        sa.Column("property", sa.String(255), nullable=False),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("inferred_type", sa.String(16), nullable=False),
        sa.Column("sample_values", JSON, nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.Column("updated", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "metric_id", "property", name=op.f("pk_metric_properties")),
    )
    op.create_index("ix_metric_properties_account_id_id", "metric_properties", ["account_id", "id"])


def downgrade() -> None:
    op.drop_table("metric_properties")
    op.drop_table("events")
    op.drop_table("metrics")
