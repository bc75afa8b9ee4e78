"""Coupons, coupon codes and bulk code jobs.

Revision ID: 0021_coupons
Revises: 0020_segment_change_log
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0021_coupons"
down_revision = "0020_segment_change_log"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "coupons",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("monitor_configuration", JSON, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "id"),
    )
    op.create_table(
        "coupon_codes",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(512), nullable=False),
        sa.Column("coupon_id", sa.String(255), nullable=False),
        sa.Column("unique_code", sa.String(255), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("profile_id", sa.String(26), nullable=True),
        sa.Column("assigned_key", sa.String(64), nullable=True),
        sa.Column("assigned_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id", "coupon_id"], ["coupons.account_id", "coupons.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("account_id", "id"),
    )
    op.create_index(
        "ix_coupon_codes_account_id_coupon_id_status_created_at",
        "coupon_codes",
        ["account_id", "coupon_id", "status", "created_at"],
    )
    op.create_index("ix_coupon_codes_account_id_profile_id", "coupon_codes", ["account_id", "profile_id"])
    op.create_index("ix_coupon_codes_account_id_assigned_key", "coupon_codes", ["account_id", "assigned_key"])
    op.create_table(
        "coupon_code_jobs",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.Column("completed_count", sa.Integer(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("entries", JSON, nullable=False),
        sa.Column("code_ids", JSON, nullable=False),
        sa.Column("errors", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("completed_at", TS, nullable=True),
        sa.Column("expires_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "id"),
    )
    op.create_index("ix_coupon_code_jobs_account_id_created_at", "coupon_code_jobs", ["account_id", "created_at"])


def downgrade() -> None:
    op.drop_table("coupon_code_jobs")
    op.drop_table("coupon_codes")
    op.drop_table("coupons")
