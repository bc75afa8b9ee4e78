"""Profiles: profiles, aliases, property types, merge log, tombstones; consent and push tokens.

Revision ID: 0005_profiles
Revises: 0002_events
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_profiles"
down_revision = "0002_events"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "profiles",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("email", sa.String(255), nullable=True),
        sa.Column("phone_number", sa.String(32), nullable=True),
        sa.Column("external_id", sa.String(255), nullable=True),
        sa.Column("first_name", sa.String(255), nullable=True),
        sa.Column("last_name", sa.String(255), nullable=True),
        sa.Column("organization", sa.String(255), nullable=True),
        sa.Column("title", sa.String(255), nullable=True),
        sa.Column("locale", sa.String(64), nullable=True),
        sa.Column("image", sa.Text(), nullable=True),
        sa.Column("location", JSON, nullable=True),
        sa.Column("properties", JSON, nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.Column("updated", TS, nullable=False),
        sa.Column("last_event_date", TS, nullable=True),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_profiles")),
        sa.UniqueConstraint("account_id", "email", name=op.f("uq_profiles_account_id_email")),
        sa.UniqueConstraint("account_id", "phone_number", name=op.f("uq_profiles_account_id_phone_number")),
        sa.UniqueConstraint("account_id", "external_id", name=op.f("uq_profiles_account_id_external_id")),
    )
    op.create_index("ix_profiles_account_id_created", "profiles", ["account_id", "created"])
    op.create_index("ix_profiles_account_id_updated", "profiles", ["account_id", "updated"])
    op.create_table(
        "profile_aliases",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("profile_id", sa.String(26), nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "kind", "value", name=op.f("pk_profile_aliases")),
    )
    op.create_index("ix_profile_aliases_account_id_profile_id", "profile_aliases", ["account_id", "profile_id"])
    op.create_table(
        "profile_property_types",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("property", sa.String(255), nullable=False),
        sa.Column("inferred_type", sa.String(16), nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "property", name=op.f("pk_profile_property_types")),
    )
    op.create_table(
        "profile_merges",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("source_profile_id", sa.String(26), nullable=False),
        sa.Column("destination_profile_id", sa.String(26), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("trigger", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("moved", JSON, nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.Column("unmerged_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_profile_merges")),
    )
    op.create_index(
        "ix_profile_merges_account_id_destination_profile_id",
        "profile_merges",
        ["account_id", "destination_profile_id"],
    )
    op.create_index(
        "ix_profile_merges_account_id_source_profile_id", "profile_merges", ["account_id", "source_profile_id"]
    )
    op.create_index("ix_profile_merges_account_id_created", "profile_merges", ["account_id", "created"])
    op.create_table(
        "profile_merge_moves",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("merge_id", sa.String(26), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "merge_id", "kind", "ref", name=op.f("pk_profile_merge_moves")),
    )
    op.create_table(
        "profile_tombstones",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("profile_id", sa.String(26), nullable=False),
        sa.Column("email_sha256", sa.String(64), nullable=True),
        sa.Column("phone_sha256", sa.String(64), nullable=True),
        sa.Column("external_id_sha256", sa.String(64), nullable=True),
        sa.Column("requested_by", sa.String(32), nullable=False),
        sa.Column("deleted_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "profile_id", name=op.f("pk_profile_tombstones")),
    )
    op.create_index(
        "ix_profile_tombstones_account_id_email_sha256", "profile_tombstones", ["account_id", "email_sha256"]
    )
    op.create_index(
        "ix_profile_tombstones_account_id_phone_sha256", "profile_tombstones", ["account_id", "phone_sha256"]
    )

    op.create_table(
        "profile_subscriptions",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("profile_id", sa.String(26), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("consent", sa.String(32), nullable=False),
        sa.Column("consent_timestamp", TS, nullable=True),
        sa.Column("last_updated", TS, nullable=False),
        sa.Column("method", sa.String(64), nullable=True),
        sa.Column("method_detail", sa.String(255), nullable=True),
        sa.Column("custom_method_detail", sa.String(255), nullable=True),
        sa.Column("double_optin", sa.Boolean(), nullable=True),
        sa.Column("pending_double_optin", sa.Boolean(), nullable=False),
        sa.Column("metadata", JSON, nullable=True),
        sa.Column("valid_until", TS, nullable=True),
        sa.PrimaryKeyConstraint(
            "account_id", "profile_id", "channel", "purpose", name=op.f("pk_profile_subscriptions")
        ),
    )
    op.create_table(
        "email_suppressions",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("profile_id", sa.String(26), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("timestamp", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "profile_id", "reason", name=op.f("pk_email_suppressions")),
    )
    op.create_index(
        "ix_email_suppressions_account_id_reason_timestamp",
        "email_suppressions",
        ["account_id", "reason", "timestamp"],
    )
    op.create_table(
        "email_list_suppressions",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("profile_id", sa.String(26), nullable=False),
        sa.Column("list_id", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("timestamp", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "profile_id", "list_id", name=op.f("pk_email_list_suppressions")),
    )
    op.create_index(
        "ix_email_list_suppressions_account_id_list_id", "email_list_suppressions", ["account_id", "list_id"]
    )
    op.create_table(
        "push_tokens",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("profile_id", sa.String(26), nullable=False),
        sa.Column("token", sa.String(512), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("vendor", sa.String(16), nullable=False),
        sa.Column("enablement_status", sa.String(32), nullable=False),
        sa.Column("background", sa.String(32), nullable=False),
        sa.Column("device_metadata", JSON, nullable=True),
        sa.Column("created", TS, nullable=False),
        sa.Column("recorded_date", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_push_tokens")),
        sa.UniqueConstraint("account_id", "token", name=op.f("uq_push_tokens_account_id_token")),
    )
    op.create_index("ix_push_tokens_account_id_profile_id", "push_tokens", ["account_id", "profile_id"])
    op.create_table(
        "suppression_jobs",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("list_id", sa.String(32), nullable=True),
        sa.Column("segment_id", sa.String(32), nullable=True),
        sa.Column("emails", JSON, nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.Column("completed_count", sa.Integer(), nullable=False),
        sa.Column("skipped_count", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("completed_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_suppression_jobs")),
    )
    op.create_index(
        "ix_suppression_jobs_account_id_kind_created_at", "suppression_jobs", ["account_id", "kind", "created_at"]
    )


def downgrade() -> None:
    for table in (
        "suppression_jobs",
        "push_tokens",
        "email_list_suppressions",
        "email_suppressions",
        "profile_subscriptions",
        "profile_tombstones",
        "profile_merge_moves",
        "profile_merges",
        "profile_property_types",
        "profile_aliases",
        "profiles",
    ):
        op.drop_table(table)
