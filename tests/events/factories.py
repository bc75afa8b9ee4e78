"""Small factories for event tests: write events straight into the store."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tidings.db.ids import ulid
from tidings.events.metrics import MetricKey
from tidings.events.store import NewEvent, write_events


def make_events(db, account_id: str, items: list[dict[str, Any]]) -> list[str]:
    """Each item: metric, profile_id, time, and optional properties, value, unique_id."""
    with db.write() as session:
        return write_events(
            session,
            account_id,
            [
                NewEvent(
                    profile_id=item.get("profile_id") or ulid(),
                    metric=MetricKey(item.get("metric", "Placed Order")),
                    time=item.get("time") or dt.datetime.now(dt.UTC),
                    properties=item.get("properties", {}),
                    value=item.get("value"),
                    value_currency=item.get("value_currency"),
                    unique_id=item.get("unique_id") or ulid(),
                )
                for item in items
            ],
        )


def metric_id(db, account_id: str, name: str) -> str:
    from sqlalchemy import select

    from tidings.events.tables import Metric

    with db.read() as session:
        return session.execute(
            select(Metric.id).where(Metric.account_id == account_id, Metric.name == name)
        ).scalar_one()
