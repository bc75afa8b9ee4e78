"""Queries on events and metrics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from tidings.db.dialect import dialect_name
from tidings.events.tables import Event, Metric, MetricProperty


def insert_events(session: Session, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Insert, skipping duplicates of (account, profile, metric, unique_id); returns the new ids."""
    if not rows:
        return []
    if dialect_name(session) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    # executemany of one statement: SQLAlchemy sends it in pages of multi-row VALUES
    # ("insertmanyvalues"), compiled once, instead of compiling one statement with a parameter
    # per value (slow, and over PostgreSQL's 65,535-parameter limit past ~5,000 events).
    stmt = insert(Event).on_conflict_do_nothing().returning(Event.id)
    return [row[0] for row in session.execute(stmt, list(rows))]


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
