"""Bulk profile import: jobs, their pending profiles, import errors, the profiles a job touched.

Revision ID: 0008_profile_imports
Revises: 0007_lists_segments
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008_profile_imports"
down_revision = "0007_lists_segments"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "profile_import_jobs",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("list_ids", JSON, nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.Column("completed_count", sa.Integer(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("completed_at", TS, nullable=True),
        sa.Column("expires_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_profile_import_jobs")),
    )
    op.create_index(
        "ix_profile_import_jobs_account_id_created_at", "profile_import_jobs", ["account_id", "created_at"]
    )
    op.create_index("ix_profile_import_jobs_expires_at", "profile_import_jobs", ["expires_at"])
    op.create_table(
        "profile_import_items",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("job_id", sa.String(26), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "job_id", "position", name=op.f("pk_profile_import_items")),
    )
    op.create_table(
        "profile_import_errors",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("job_id", sa.String(26), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("pointer", sa.String(255), nullable=False),
        sa.Column("original_payload", JSON, nullable=True),
        sa.PrimaryKeyConstraint("account_id", "job_id", "position", name=op.f("pk_profile_import_errors")),
    )
    op.create_table(
        "profile_import_profiles",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("job_id", sa.String(26), nullable=False),
        sa.Column("profile_id", sa.String(26), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "job_id", "profile_id", name=op.f("pk_profile_import_profiles")),
    )
    op.create_index(
        "ix_profile_import_profiles_account_id_profile_id",
        "profile_import_profiles",
        ["account_id", "profile_id"],
    )


def downgrade() -> None:
    op.drop_table("profile_import_profiles")
    op.drop_table("profile_import_errors")
    op.drop_table("profile_import_items")
    op.drop_table("profile_import_jobs")
