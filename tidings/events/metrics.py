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
}
SAMPLE_VALUES = 10  # [INF] Klaviyo gives no number
MAX_SAMPLE_LENGTH = 200
MAX_PROPERTY_NAME = 255  # metric_properties.property
_SCALARS = {str, int, float, bool}  # sample values are scalars (the spec's oneOf)
_UNSAMPLED = {PropertyType.LIST, PropertyType.OBJECT}


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


@dataclass(slots=True)
class _Seen:
    """What is known of one metric property while a batch is read: its type (None until a
    non-null value), its samples, and how many more samples are wanted."""

    kind: PropertyType | None
    samples: list[Any]
    room: int
    row: MetricProperty | None = None

    @classmethod
    def of(cls, row: MetricProperty | None) -> _Seen:
        if row is None:
            return cls(None, [], SAMPLE_VALUES)
        seen = cls(PropertyType(row.inferred_type), list(row.sample_values or []), 0, row)
        if seen.kind not in _UNSAMPLED:
            seen.room = max(SAMPLE_VALUES - len(seen.samples), 0)
        return seen

    def add(self, value: Any) -> None:
        if self.kind is None:
            self.kind = infer_type(value)
            if self.kind in _UNSAMPLED:  # a list or an object has no scalar samples
                self.room = 0
        if self.room and _samplable(value) and value not in self.samples:
            self.samples.append(value)
            self.room -= 1


def _samplable(value: Any) -> bool:
    """Samples are scalars (the spec's integer, number, string or boolean), strings short."""
    kind = type(value)
    return kind in _SCALARS and (kind is not str or len(value) <= MAX_SAMPLE_LENGTH)


def record_properties(session: Session, account_id: str, events: list[tuple[str, dict[str, Any]]]) -> None:
    """Remember each metric's top-level property names, types and sample values from written
    events (metric id, properties). The first non-null value fixes a type; samples are the first
    distinct scalar values, up to SAMPLE_VALUES. Once both are known for a property, its values
    are skipped, so a batch costs a lookup per property and event."""
    if not events:
        return
    existing = {
        (row.metric_id, row.property): row
        for row in session.execute(
            select(MetricProperty).where(
                MetricProperty.account_id == account_id,
                MetricProperty.metric_id.in_({metric_id for metric_id, _ in events}),
            )
        ).scalars()
    }
    seen: dict[str, dict[str, _Seen]] = {}
    for metric_id, properties in events:
        known = seen.setdefault(metric_id, {})
        for name, value in properties.items():
            if name == "$extra":  # Klaviyo's non-segmentable values
                continue
            entry = known.get(name)
            if entry is None:
                entry = known[name] = _Seen.of(existing.get((metric_id, name)))
            if value is not None and (entry.kind is None or entry.room):
                entry.add(value)
    _store(session, account_id, seen)


def _store(session: Session, account_id: str, seen: dict[str, dict[str, _Seen]]) -> None:
    now = utcnow()
    new_rows = []
    for metric_id, known in seen.items():
        for name, entry in known.items():
            if entry.row is not None:
                if len(entry.samples) > len(entry.row.sample_values or []):
                    entry.row.sample_values = entry.samples
                    entry.row.updated = now
            # A property seen only as null is not known yet; a name too long to list is not listed.
            elif entry.kind is not None and len(name) <= MAX_PROPERTY_NAME:
                new_rows.append(
                    {
                        "account_id": account_id,
                        "metric_id": metric_id,
                        "property": name,
                        "id": property_id(metric_id, name),
                        "inferred_type": entry.kind.value,
                        "sample_values": entry.samples,
                        "created": now,
                        "updated": now,
                    }
                )
    if new_rows:
        session.execute(insert_ignore(session, MetricProperty.__table__, new_rows))  # type: ignore[arg-type]
