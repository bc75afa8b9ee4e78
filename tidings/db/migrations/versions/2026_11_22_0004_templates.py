"""Templates, universal content, and the installation's settings (the link-signing secret).

Revision ID: 0004_templates
Revises: 0003_catalogs
Create Date: 2026-11-22
"""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_templates"
down_revision = "0003_catalogs"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "templates",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(6), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("editor_type", sa.String(20), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("amp", sa.Text(), nullable=True),
        sa.Column("definition", JSON, nullable=True),
        sa.Column("created", TS, nullable=False),
        sa.Column("updated", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_templates_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_templates")),
    )
    op.create_index("ix_templates_account_id_created", "templates", ["account_id", "created"])
    op.create_index("ix_templates_account_id_updated", "templates", ["account_id", "updated"])
    op.create_index("ix_templates_account_id_name", "templates", ["account_id", "name"])

    op.create_table(
        "template_universal_content",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("content_type", sa.String(20), nullable=False),
        sa.Column("block_type", sa.String(40), nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.Column("updated", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_template_universal_content_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_template_universal_content")),
    )
    for column in ("created", "updated", "name"):
        op.create_index(
            f"ix_template_universal_content_account_id_{column}",
            "template_universal_content",
            ["account_id", column],
        )

    settings = op.create_table(
        "instance_settings",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_instance_settings")),
    )
    # One secret per installation, made here so every process finds the same one.
    op.bulk_insert(
        settings,
        [{"name": "secret_key", "value": secrets.token_urlsafe(48), "created": dt.datetime.now(dt.UTC)}],
    )


def downgrade() -> None:
    op.drop_table("instance_settings")
    op.drop_table("template_universal_content")
    op.drop_table("templates")
