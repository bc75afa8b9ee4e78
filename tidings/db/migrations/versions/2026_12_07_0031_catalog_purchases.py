"""Recommendations' daily snapshot of purchases: who bought which product, and how many did.

Revision ID: 0031_catalog_purchases
Revises: 0030_web_users
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031_catalog_purchases"
down_revision = "0030_web_users"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "catalog_purchases",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("product_id", sa.String(255), nullable=False),
        sa.Column("profile_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "product_id", "profile_id", name=op.f("pk_catalog_purchases")),
    )
    # Covering, so the purchases of the people alike are read from the index alone.
    op.create_index(
        "ix_catalog_purchases_account_id_profile_id_product_id",
        "catalog_purchases",
        ["account_id", "profile_id", "product_id"],
    )
    op.create_table(
        "catalog_product_popularity",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("product_id", sa.String(255), nullable=False),
        sa.Column("buyers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "product_id", name=op.f("pk_catalog_product_popularity")),
    )
    op.create_table(
        "catalog_purchase_snapshots",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("window_start", TS, nullable=True),
        sa.Column("built_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_catalog_purchase_snapshots")),
    )


def downgrade() -> None:
    op.drop_table("catalog_purchase_snapshots")
    op.drop_table("catalog_product_popularity")
    op.drop_index("ix_catalog_purchases_account_id_profile_id_product_id", table_name="catalog_purchases")
    op.drop_table("catalog_purchases")
