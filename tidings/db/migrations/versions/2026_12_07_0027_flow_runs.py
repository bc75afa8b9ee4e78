"""Flow runs, their trace and the segment change-log cursors of segment-triggered flows.

Revision ID: 0027_flow_runs
Revises: 0026_campaign_sends
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027_flow_runs"
down_revision = "0026_campaign_sends"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "flow_runs",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("flow_id", sa.String(26), nullable=False),
        sa.Column("profile_id", sa.String(26), nullable=False),
        sa.Column("trigger_kind", sa.String(20), nullable=False),
        sa.Column("trigger_key", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(26), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("action_id", sa.String(26), nullable=True),
        sa.Column("due_at", TS, nullable=True),
        sa.Column("visit", sa.Integer(), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("exit_reason", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_flow_runs")),
        sa.UniqueConstraint(
            "account_id",
            "flow_id",
            "profile_id",
            "trigger_key",
            name=op.f("uq_flow_runs_account_id_flow_id_profile_id_trigger_key"),
        ),
    )
    op.create_index(
        "ix_flow_runs_due", "flow_runs", ["due_at"], postgresql_where=sa.text("status IN ('active', 'waiting')")
    )
    op.create_index(
        "ix_flow_runs_account_id_flow_id_profile_id", "flow_runs", ["account_id", "flow_id", "profile_id"]
    )
    op.create_index("ix_flow_runs_account_id_profile_id", "flow_runs", ["account_id", "profile_id"])
    op.create_table(
        "flow_run_steps",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("run_id", sa.String(26), nullable=False),
        sa.Column("flow_id", sa.String(26), nullable=False),
        sa.Column("action_id", sa.String(26), nullable=True),
        sa.Column("visit", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(255), nullable=True),
        sa.Column("send_id", sa.String(26), nullable=True),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_flow_run_steps")),
    )
    op.create_index(
        "ix_flow_run_steps_account_id_run_id", "flow_run_steps", ["account_id", "run_id", "visit"]
    )
    op.create_table(
        "flow_entry_cursors",
        sa.Column("account_id", sa.String(6), nullable=False),
        sa.Column("flow_id", sa.String(26), nullable=False),
        sa.Column("position", sa.String(26), nullable=False),
        sa.Column("opened", sa.String(26), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "flow_id", name=op.f("pk_flow_entry_cursors")),
    )


def downgrade() -> None:
    op.drop_table("flow_entry_cursors")
    op.drop_index("ix_flow_run_steps_account_id_run_id", table_name="flow_run_steps")
    op.drop_table("flow_run_steps")
    op.drop_index("ix_flow_runs_account_id_profile_id", table_name="flow_runs")
    op.drop_index("ix_flow_runs_account_id_flow_id_profile_id", table_name="flow_runs")
    op.drop_index("ix_flow_runs_due", table_name="flow_runs")
    op.drop_table("flow_runs")
