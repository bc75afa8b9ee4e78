"""Metrics are created implicitly, by name and integration, the first time an event uses them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.dialect import insert_ignore
from tidings.db.ids import short_id
from tidings.events.tables import Metric, MetricProperty
from tidings.inference import PropertyType, infer_type

KLAVIYO = "klaviyo"  # Klaviyo's own metrics: Received Email, Subscribed to List, ...
TIDINGS = "tidings"  # Tidings' own metrics, beyond Klaviyo's: Entered Segment, Exited Segment
API = "api"
PLACED_ORDER = "Placed Order"  # the metric historic order values and predictive conditions read

INTEGRATIONS: dict[str, dict[str, Any]] = {
    API: {"object": "integration", "id": "api", "key": "api", "name": "API", "category": "API"},
    KLAVIYO: {
        "object": "integration",
        "id": "klaviyo",
        "key": "klaviyo",
        "name": "Klaviyo",
        "category": "Internal",
    },
    TIDINGS: {
        "object": "integration",
        "id": "tidings",
        "key": "tidings",
        "name": "Tidings",
        "category": "Internal",
    },
}
SAMPLE_VALUES = 10


@dataclass(frozen=True)
class MetricKey:
    name: str
    integration_key: str = API


def integration_for(key: str) -> dict[str, Any]:
    return INTEGRATIONS.get(
        key, {"object": "integration", "id": key, "key": key, "name": key, "category": "Custom"}
    )


def ensure_metrics(session: Session, account_id: str, keys: set[MetricKey]) -> dict[MetricKey, str]:
    """The id of each metric, creating the missing ones (safe under concurrent writers)."""
    if not keys:
        return {}
    found = _lookup(session, account_id, keys)
    missing = [k for k in keys if k not in found]
    if missing:
        now = utcnow()
        rows = [
            {
                "account_id": account_id,
                "id": short_id(),
                "name": key.name,
                "integration_key": key.integration_key,
                "integration": integration_for(key.integration_key),
                "created": now,
                "updated": now,
            }
            for key in missing
        ]
        session.execute(insert_ignore(session, Metric.__table__, rows))  # type: ignore[arg-type]
        found.update(_lookup(session, account_id, set(missing)))
    return found


def _lookup(session: Session, account_id: str, keys: set[MetricKey]) -> dict[MetricKey, str]:
    names = {k.name for k in keys}
    rows = session.execute(
        select(Metric.name, Metric.integration_key, Metric.id).where(
            Metric.account_id == account_id, Metric.name.in_(names)
        )
    )
    return {MetricKey(name, integ): mid for name, integ, mid in rows if MetricKey(name, integ) in keys}


def property_id(metric_id: str, name: str) -> str:
    return hashlib.md5(f"{metric_id}:{name}".encode()).hexdigest()


def record_properties(session: Session, account_id: str, seen: dict[str, dict[str, Any]]) -> None:
    """Remember each metric's top-level property names and types. `seen`: metric id -> {name: value}."""
    if not seen:
        return
    now = utcnow()
    existing = {
        (row.metric_id, row.property): row
        for row in session.execute(
            select(MetricProperty).where(
                MetricProperty.account_id == account_id, MetricProperty.metric_id.in_(list(seen))
            )
        ).scalars()
    }
    new_rows = []
    for metric_id, values in seen.items():
        for name, value in values.items():
            kind = infer_type(value)
            current = existing.get((metric_id, name))
            if current is None:
                new_rows.append(
                    {
                        "account_id": account_id,
                        "metric_id": metric_id,
                        "property": name,
                        "id": property_id(metric_id, name),
                        "inferred_type": (kind or PropertyType.STRING).value,
                        "sample_values": [] if value is None or kind is PropertyType.OBJECT else [value],
                        "created": now,
                        "updated": now,
                    }
                )
            elif kind is not None and _worth_sampling(current.sample_values or [], value):
                current.sample_values = [*(current.sample_values or []), value]
                current.updated = now
    if new_rows:
        session.execute(insert_ignore(session, MetricProperty.__table__, new_rows))  # type: ignore[arg-type]


def _worth_sampling(samples: list[Any], value: Any) -> bool:
    if len(samples) >= SAMPLE_VALUES or value in samples:
        return False
    return isinstance(value, str | int | float | bool) and len(str(value)) <= 200
