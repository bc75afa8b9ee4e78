"""Queries on events and metrics."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tidings.db.dialect import bulk_insert_ignore
from tidings.events.metrics import PLACED_ORDER
from tidings.events.tables import Event, Metric, MetricProperty


def insert_events(session: Session, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Insert, skipping duplicates of (account, profile, metric, unique_id); returns the new ids."""
    return bulk_insert_ignore(
        session,
        Event.__table__,  # type: ignore[arg-type]
        rows,
        index_elements=["account_id", "profile_id", "metric_id", "unique_id"],
        returning="id",
    )


def get_event(session: Session, account_id: str, event_id: str) -> Event | None:
    return session.get(Event, (account_id, event_id))


def get_metric(session: Session, account_id: str, metric_id: str) -> Metric | None:
    return session.get(Metric, (account_id, metric_id))


def metrics_by_id(session: Session, account_id: str, ids: set[str]) -> dict[str, Metric]:
    if not ids:
        return {}
    rows = session.execute(
        select(Metric).where(Metric.account_id == account_id, Metric.id.in_(ids))
    ).scalars()
    return {m.id: m for m in rows}


def events_query(account_id: str) -> Select[Any]:
    return select(Event).where(Event.account_id == account_id)


def metrics_query(account_id: str) -> Select[Any]:
    return select(Metric).where(Metric.account_id == account_id)


def metric_properties(session: Session, account_id: str, metric_id: str) -> list[MetricProperty]:
    stmt = (
        select(MetricProperty)
        .where(MetricProperty.account_id == account_id, MetricProperty.metric_id == metric_id)
        .order_by(MetricProperty.property)
    )
    return list(session.execute(stmt).scalars())


def get_metric_property(session: Session, account_id: str, property_id: str) -> MetricProperty | None:
    stmt = select(MetricProperty).where(
        MetricProperty.account_id == account_id, MetricProperty.id == property_id
    )
    return session.execute(stmt).scalars().first()


def order_history(
    session: Session, account_id: str, profile_ids: Sequence[str]
) -> dict[str, tuple[int, float, dt.datetime, dt.datetime]]:
    """Per profile with orders: (number of `Placed Order` events, the sum of their values, the
    first and the last order's time). Profiles without orders are absent."""
    if not profile_ids:
        return {}
    placed = select(Metric.id).where(Metric.account_id == account_id, Metric.name == PLACED_ORDER)
    stmt = (
        select(
            Event.profile_id,
            func.count(),
            func.coalesce(func.sum(func.coalesce(Event.value, 0.0)), 0.0),
            func.min(Event.time),
            func.max(Event.time),
        )
        .where(
            Event.account_id == account_id,
            Event.metric_id.in_(placed.scalar_subquery()),
            Event.profile_id.in_(list(profile_ids)),
        )
        .group_by(Event.profile_id)
    )
    return {pid: (int(n), float(total), first, last) for pid, n, total, first, last in session.execute(stmt)}
