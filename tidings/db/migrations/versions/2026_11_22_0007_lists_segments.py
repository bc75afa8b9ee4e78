"""Lists and segments: lists, their members and first joins; segments, members, history, timers.

Revision ID: 0007_lists_segments
Revises: 0004_templates
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007_lists_segments"
down_revision = "0004_templates"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "lists",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("opt_in_process", sa.String(16), nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.Column("updated", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_lists")),
    )
    op.create_index("ix_lists_account_id_name", "lists", ["account_id", "name"])
    op.create_table(
        "list_members",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("list_id", sa.String(32), nullable=False),
        sa.Column("profile_id", sa.String(26), nullable=False),
        sa.Column("joined_group_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "list_id", "profile_id", name=op.f("pk_list_members")),
    )
    op.create_index("ix_list_members_account_id_profile_id", "list_members", ["account_id", "profile_id"])
    op.create_index(
        "ix_list_members_account_id_list_id_joined_group_at",
        "list_members",
        ["account_id", "list_id", "joined_group_at"],
    )
    op.create_table(
        "list_first_joins",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("list_id", sa.String(32), nullable=False),
        sa.Column("profile_id", sa.String(26), nullable=False),
        sa.Column("joined_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "list_id", "profile_id", name=op.f("pk_list_first_joins")),
    )
    op.create_table(
        "segments",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_starred", sa.Boolean(), nullable=False),
        sa.Column("is_processing", sa.Boolean(), nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.Column("updated", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_segments")),
    )
    op.create_index("ix_segments_account_id_name", "segments", ["account_id", "name"])
    op.create_table(
        "segment_members",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("segment_id", sa.String(32), nullable=False),
        sa.Column("profile_id", sa.String(26), nullable=False),
        sa.Column("joined_group_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "segment_id", "profile_id", name=op.f("pk_segment_members")),
    )
    op.create_index(
        "ix_segment_members_account_id_profile_id", "segment_members", ["account_id", "profile_id"]
    )
    op.create_table(
        "segment_changes",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("segment_id", sa.String(32), nullable=False),
        sa.Column("profile_id", sa.String(26), nullable=False),
        sa.Column("entered", sa.Boolean(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_segment_changes")),
    )
    op.create_index(
        "ix_segment_changes_account_id_segment_id_at", "segment_changes", ["account_id", "segment_id", "at"]
    )


def downgrade() -> None:
    op.drop_table("segment_changes")
    op.drop_table("segment_members")
    op.drop_table("segments")
    op.drop_table("list_first_joins")
    op.drop_table("list_members")
    op.drop_table("lists")
