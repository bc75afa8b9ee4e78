"""Catalogs: items, variants, categories, change history, bulk jobs, back in stock, feeds.

Revision ID: 0003_catalogs
Revises: 0006_event_inbox
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_catalogs"
down_revision = "0006_event_inbox"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)
ID = 300


def _product_columns() -> list[sa.Column]:
    return [
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("image_full_url", sa.Text(), nullable=True),
        sa.Column("image_thumbnail_url", sa.Text(), nullable=True),
        sa.Column("images", JSON, nullable=True),
        sa.Column("custom_metadata", JSON, nullable=True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.Column("updated", TS, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "catalog_items",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price", sa.Float(), nullable=True),
        *_product_columns(),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_catalog_items")),
    )
    op.create_index("ix_catalog_items_account_id_created_id", "catalog_items", ["account_id", "created", "id"])

    op.create_table(
        "catalog_variants",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("item_id", sa.String(ID), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("sku", sa.String(255), nullable=False),
        sa.Column("inventory_policy", sa.SmallInteger(), nullable=False),
        sa.Column("inventory_quantity", sa.Float(), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        *_product_columns(),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_catalog_variants")),
    )
    op.create_index(
        "ix_catalog_variants_account_id_created_id", "catalog_variants", ["account_id", "created", "id"]
    )
    op.create_index("ix_catalog_variants_account_id_item_id", "catalog_variants", ["account_id", "item_id"])
    op.create_index("ix_catalog_variants_account_id_sku", "catalog_variants", ["account_id", "sku"])

    op.create_table(
        "catalog_categories",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.Column("updated", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_catalog_categories")),
    )
    op.create_index(
        "ix_catalog_categories_account_id_created_id", "catalog_categories", ["account_id", "created", "id"]
    )

    op.create_table(
        "catalog_item_categories",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("item_id", sa.String(ID), nullable=False),
        sa.Column("category_id", sa.String(ID), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "item_id", "category_id", name=op.f("pk_catalog_item_categories")),
    )
    op.create_index(
        "ix_catalog_item_categories_account_id_category_id_item_id",
        "catalog_item_categories",
        ["account_id", "category_id", "item_id"],
    )

    op.create_table(
        "catalog_changes",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("resource_type", sa.String(20), nullable=False),
        sa.Column("resource_id", sa.String(ID), nullable=False),
        sa.Column("item_id", sa.String(ID), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("old_value", sa.Float(), nullable=True),
        sa.Column("new_value", sa.Float(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("changed_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_catalog_changes")),
    )
    op.create_index(
        "ix_catalog_changes_account_id_resource_id_changed_at",
        "catalog_changes",
        ["account_id", "resource_id", "changed_at"],
    )
    op.create_index("ix_catalog_changes_account_id_changed_at", "catalog_changes", ["account_id", "changed_at"])

    op.create_table(
        "catalog_bulk_jobs",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("job_type", sa.String(40), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.Column("completed_count", sa.Integer(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("errors", JSON, nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("resource_ids", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("completed_at", TS, nullable=True),
        sa.Column("expires_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_catalog_bulk_jobs")),
    )
    op.create_index(
        "ix_catalog_bulk_jobs_account_id_job_type_created_at",
        "catalog_bulk_jobs",
        ["account_id", "job_type", "created_at"],
    )

    op.create_table(
        "back_in_stock_subscriptions",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("variant_id", sa.String(ID), nullable=False),
        sa.Column("channels", JSON, nullable=False),
        sa.Column("profile_id", sa.String(64), nullable=True),
        sa.Column("email", sa.String(255), nullable=True),
        sa.Column("phone_number", sa.String(32), nullable=True),
        sa.Column("external_id", sa.String(255), nullable=True),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("event_id", sa.String(26), nullable=True),
        sa.Column("created", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_back_in_stock_subscriptions")),
    )
    op.create_index(
        "ix_back_in_stock_subscriptions_account_id_variant_id",
        "back_in_stock_subscriptions",
        ["account_id", "variant_id", "created"],
    )

    op.create_table(
        "catalog_feeds",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_started_at", TS, nullable=True),
        sa.Column("last_finished_at", TS, nullable=True),
        sa.Column("last_status", sa.Text(), nullable=True),
        sa.Column("last_summary", JSON, nullable=True),
        sa.Column("created", TS, nullable=False),
        sa.Column("updated", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_catalog_feeds")),
    )


def downgrade() -> None:
    for table in (
        "catalog_feeds",
        "back_in_stock_subscriptions",
        "catalog_bulk_jobs",
        "catalog_changes",
        "catalog_item_categories",
        "catalog_categories",
        "catalog_variants",
        "catalog_items",
    ):
        op.drop_table(table)
