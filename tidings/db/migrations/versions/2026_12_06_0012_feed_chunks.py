"""Catalog feed chunks: a scheduled feed's parsed products, applied one committed step at a time.

Revision ID: 0012_feed_chunks
Revises: 0011_job_leases
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_feed_chunks"
down_revision = "0011_job_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_feed_chunks",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("run_id", sa.String(26), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("products", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "run_id", "seq", name=op.f("pk_catalog_feed_chunks")),
    )


def downgrade() -> None:
    op.drop_table("catalog_feed_chunks")
