"""Tag groups, tags and taggings; every existing account gets its default tag group.

Revision ID: 0023_tags
Revises: 0022_images
Create Date: 2026-12-07
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import op

revision = "0023_tags"
down_revision = "0022_images"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tag_groups",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("exclusive", sa.Boolean(), nullable=False),
        sa.Column("default", sa.Boolean(), nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id"),
        sa.UniqueConstraint("account_id", "name", name="uq_tag_groups_account_id_name"),
    )
    op.create_table(
        "tags",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tag_group_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id"),
        sa.UniqueConstraint("account_id", "name", name="uq_tags_account_id_name"),
        sa.ForeignKeyConstraint(
            ["account_id", "tag_group_id"],
            ["tag_groups.account_id", "tag_groups.id"],
            name="fk_tags_tag_group",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_tags_account_id_tag_group_id", "tags", ["account_id", "tag_group_id"])
    op.create_table(
        "taggings",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("tag_id", sa.String(36), nullable=False),
        sa.Column("resource_kind", sa.String(16), nullable=False),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "tag_id", "resource_kind", "resource_id"),
        sa.ForeignKeyConstraint(
            ["account_id", "tag_id"], ["tags.account_id", "tags.id"], name="fk_taggings_tag", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_taggings_account_id_resource", "taggings", ["account_id", "resource_kind", "resource_id"])

    # Every account has one default tag group (new accounts get theirs when they are created).
    bind = op.get_bind()
    accounts = [row[0] for row in bind.execute(sa.text("SELECT id FROM accounts"))]
    groups = sa.table(
        "tag_groups",
        sa.column("account_id", sa.String),
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("exclusive", sa.Boolean),
        sa.column("default", sa.Boolean),
        sa.column("created", TS),
    )
    now = dt.datetime.now(dt.UTC)
    rows = [
        {"account_id": a, "id": str(uuid.uuid4()), "name": "Default Tag Group", "exclusive": False, "default": True, "created": now}
        for a in accounts
    ]
    if rows:
        op.bulk_insert(groups, rows)


def downgrade() -> None:
    op.drop_index("ix_taggings_account_id_resource", table_name="taggings")
    op.drop_table("taggings")
    op.drop_index("ix_tags_account_id_tag_group_id", table_name="tags")
    op.drop_table("tags")
    op.drop_table("tag_groups")
