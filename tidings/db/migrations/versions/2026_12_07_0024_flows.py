"""Flows, flow actions and flow messages.

Revision ID: 0024_flows
Revises: 0023_tags
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0024_flows"
down_revision = "0023_tags"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "flows",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("trigger_type", sa.String(40), nullable=False),
        sa.Column("trigger_kind", sa.String(20), nullable=True),
        sa.Column("trigger_ref", sa.String(64), nullable=True),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_flows_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_flows")),
    )
    for column in ("created_at", "updated_at", "name"):
        op.create_index(f"ix_flows_account_id_{column}", "flows", ["account_id", column])
    op.create_index(
        "ix_flows_account_id_trigger_kind_trigger_ref", "flows", ["account_id", "trigger_kind", "trigger_ref"]
    )

    op.create_table(
        "flow_actions",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("flow_id", sa.String(26), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("action_type", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id", "flow_id"],
            ["flows.account_id", "flows.id"],
            name=op.f("fk_flow_actions_account_id_flow_id_flows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_flow_actions")),
    )
    op.create_index("ix_flow_actions_account_id_flow_id", "flow_actions", ["account_id", "flow_id"])

    op.create_table(
        "flow_messages",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("action_id", sa.String(26), nullable=False),
        sa.Column("flow_id", sa.String(26), nullable=False),
        sa.Column("slot", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("template_id", sa.String(26), nullable=True),
        sa.Column("template_source_id", sa.String(26), nullable=True),
        sa.Column("template_name", sa.String(255), nullable=True),
        sa.Column("template_editor_type", sa.String(20), nullable=True),
        sa.Column("template_html", sa.Text(), nullable=True),
        sa.Column("template_text", sa.Text(), nullable=True),
        sa.Column("template_amp", sa.Text(), nullable=True),
        sa.Column("template_copied_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id", "action_id"],
            ["flow_actions.account_id", "flow_actions.id"],
            name=op.f("fk_flow_messages_account_id_action_id_flow_actions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_flow_messages")),
    )
    op.create_index("ix_flow_messages_account_id_action_id", "flow_messages", ["account_id", "action_id"])
    op.create_index("ix_flow_messages_account_id_flow_id", "flow_messages", ["account_id", "flow_id"])


def downgrade() -> None:
    op.drop_table("flow_messages")
    op.drop_table("flow_actions")
    op.drop_table("flows")
