"""Mapped metrics: which metric (or custom metric) stands for each of Klaviyo's conversion kinds.

Klaviyo maps its conversions (revenue, ordered products, carts, ...) to the metric that records
them, which an integration names its own way. A kind the account never mapped answers Klaviyo's
default [INF]: its metric of the usual name (revenue: "Placed Order"), the oldest when integrations
made several, or nothing. An update stores the mapping (a metric, a custom metric, or neither).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.accounts.tables import Account
from tidings.db.base import utcnow
from tidings.events import custom_metrics
from tidings.events.tables import MappedMetric, Metric
from tidings.jsonapi.errors import Conflict, InvalidInput, NotFound

# Each kind and the metric name Klaviyo's integrations record it under.
KINDS: dict[str, str] = {
    "added_to_cart": "Added to Cart",
    "cancelled_sales": "Cancelled Order",
    "ordered_product": "Ordered Product",
    "refunded_sales": "Refunded Order",
    "revenue": "Placed Order",
    "started_checkout": "Started Checkout",
    "viewed_product": "Viewed Product",
}
POINTER = "/data/relationships"


@dataclass(frozen=True)
class Mapping:
    id: str
    metric_id: str | None
    custom_metric_id: str | None
    updated: dt.datetime


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise NotFound(f"A mapped metric with id {kind} does not exist.")


def list_mappings(session: Session, account_id: str) -> list[Mapping]:
    stored = {
        row.id: row
        for row in session.execute(
            select(MappedMetric).where(MappedMetric.account_id == account_id)
        ).scalars()
    }
    defaults = _defaults(session, account_id, [k for k in KINDS if k not in stored])
    since = _account_created(session, account_id)
    out = []
    for kind in sorted(KINDS):
        row = stored.get(kind)
        if row is not None:
            out.append(Mapping(kind, row.metric_id, row.custom_metric_id, row.updated))
        else:
            out.append(Mapping(kind, defaults.get(kind), None, since))
    return out


def get_mapping(session: Session, account_id: str, kind: str) -> Mapping:
    _check_kind(kind)
    return next(m for m in list_mappings(session, account_id) if m.id == kind)


def conversion_metric(session: Session, account_id: str, kind: str = "revenue") -> str | None:
    """The metric or custom metric id a conversion kind maps to (None: unmapped)."""
    mapping = get_mapping(session, account_id, kind)
    return mapping.custom_metric_id or mapping.metric_id


def _defaults(session: Session, account_id: str, kinds: list[str]) -> dict[str, str]:
    if not kinds:
        return {}
    names = {KINDS[k]: k for k in kinds}
    stmt = (
        select(Metric.name, Metric.id)
        .where(Metric.account_id == account_id, Metric.name.in_(names))
        .order_by(Metric.created, Metric.id)
    )
    found: dict[str, str] = {}
    for name, metric_id in session.execute(stmt):
        found.setdefault(names[name], metric_id)
    return found


def _account_created(session: Session, account_id: str) -> dt.datetime:
    created = session.execute(select(Account.created).where(Account.id == account_id)).scalar()
    return created or utcnow()


def update_mapping(
    session: Session,
    account_id: str,
    kind: str,
    body_id: str,
    metric_id: str | None,
    custom_metric_id: str | None,
) -> Mapping:
    """Map a kind to a metric or a custom metric (both null: unmapped). Naming both is a 400."""
    _check_kind(kind)
    if body_id != kind:
        raise Conflict("The id in the body does not match the id in the path.", pointer="/data/id")
    if metric_id is not None and custom_metric_id is not None:
        raise InvalidInput(
            "Map to a metric or to a custom metric, not both.", pointer=f"{POINTER}/custom-metric/data/id"
        )
    if metric_id is not None and session.get(Metric, (account_id, metric_id)) is None:
        raise InvalidInput(
            f"A metric with id {metric_id} does not exist.", pointer=f"{POINTER}/metric/data/id"
        )
    if custom_metric_id is not None and not custom_metrics.existing_ids(
        session, account_id, [custom_metric_id]
    ):
        raise InvalidInput(
            f"A custom metric with id {custom_metric_id} does not exist.",
            pointer=f"{POINTER}/custom-metric/data/id",
        )
    row = session.get(MappedMetric, (account_id, kind))
    if row is None:
        row = MappedMetric(account_id=account_id, id=kind)
        session.add(row)
    row.metric_id, row.custom_metric_id, row.updated = metric_id, custom_metric_id, utcnow()
    session.flush()
    return Mapping(kind, metric_id, custom_metric_id, row.updated)
