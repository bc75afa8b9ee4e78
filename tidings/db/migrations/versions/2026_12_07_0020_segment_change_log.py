"""Segment entries and exits are no longer events.

They were written as "Entered Segment" / "Exited Segment" events of a metric of Tidings' own
integration; Klaviyo has no such metric, so `get_metrics` listed it. The change log
(`segment_changes`) already held every entry and exit, and is what flows and Tidings' own
`/api/x-tidings/segments/{id}/changes` read. This removes those events, their metric
properties and their metrics (no table refers to a metric by foreign key).

Revision ID: 0020_segment_change_log
Revises: 0019_campaigns
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0020_segment_change_log"
down_revision = "0019_campaigns"
branch_labels = None
depends_on = None



def upgrade() -> None:
    for table in ("events", "metric_properties"):
        op.execute(
            f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM metrics m WHERE m.integration_key = 'tidings' "
            f"AND m.account_id = {table}.account_id AND m.id = {table}.metric_id)"
        )
    op.execute("DELETE FROM metrics WHERE integration_key = 'tidings'")


def downgrade() -> None:
    # The deleted events are not restored: the change log holds the same entries and exits.
    pass
