"""Jobs: a lease token per claim (fencing), lanes, and `dead` for jobs out of attempts.

Revision ID: 0011_job_leases
Revises: 0010_api_key_changes
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_job_leases"
down_revision = "0010_api_key_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("lane", sa.String(20), nullable=False, server_default="default"))
        batch.add_column(sa.Column("lease_token", sa.String(26), nullable=True))
        batch.drop_index("ix_jobs_claim")
        batch.create_index("ix_jobs_claim", ["lane", "status", "run_at"])
    op.execute("UPDATE jobs SET status = 'dead' WHERE status = 'failed'")


def downgrade() -> None:
    op.execute("UPDATE jobs SET status = 'failed' WHERE status = 'dead'")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_claim")
        batch.create_index("ix_jobs_claim", ["status", "run_at"])
        batch.drop_column("lease_token")
        batch.drop_column("lane")
