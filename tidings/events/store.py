"""Writing events: the one path every event takes into the store.

Ingestion (the processor draining the inbox) and the other domains (consent changes, list
joins, back in stock, segment transitions) all write through `write_events`, so dedup,
metric creation, metric property types and the listeners are the same for every event.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.ids import ulid, ulids_at
from tidings.events import hooks, metrics, repository
from tidings.events.metrics import KLAVIYO, MetricKey


@dataclass(slots=True)
class NewEvent:
    profile_id: str
    metric: MetricKey
    time: dt.datetime
    properties: dict[str, Any] = field(default_factory=dict)
    value: float | None = None
    value_currency: str | None = None
    unique_id: str | None = None
    backfill: bool = False
    source: str = "api"

    @property
    def dedup_key(self) -> str:
        """Klaviyo's rule: the unique_id, or else the time to the second."""
        return self.unique_id if self.unique_id else str(int(self.time.timestamp()))


def write_events(session: Session, account_id: str, events: list[NewEvent]) -> list[str]:
    """Write events (first one wins on a repeated dedup key); returns the ids written."""
    if not events:
        return []
    ids = metrics.ensure_metrics(session, account_id, {e.metric for e in events})
    received = utcnow()
    rows: list[dict[str, Any]] = []
    times_ms: list[int] = []
    seen_in_batch: set[tuple[str, str, str]] = set()
    # Events of one group share its receipt time: each distinct time is converted once.
    whens: dict[dt.datetime, tuple[dt.datetime, int]] = {}
    for event in events:
        metric_id = ids[event.metric]
        dedup_key = event.dedup_key
        key = (event.profile_id, metric_id, dedup_key)
        if key in seen_in_batch:
            continue
        seen_in_batch.add(key)
        converted = whens.get(event.time)
        if converted is None:
            when = event.time.astimezone(dt.UTC).replace(microsecond=0)
            converted = whens[event.time] = (when, int(when.timestamp() * 1000))
        times_ms.append(converted[1])
        value, properties = event.value, event.properties
        if value is None and "$value" in properties:
            value, properties = _value_property(properties)
        rows.append(
            {
                "account_id": account_id,
                "id": "",
                "metric_id": metric_id,
                "profile_id": event.profile_id,
                "time": converted[0],
                "value": value,
                "value_currency": event.value_currency,
                "properties": properties,
                "unique_id": dedup_key,
                "backfill": event.backfill,
                "source": event.source,
                "received": received,
            }
        )
    for row, event_id in zip(rows, ulids_at(times_ms), strict=True):
        row["id"] = event_id
    written = set(repository.insert_events(session, rows))
    kept = [row for row in rows if row["id"] in written]
    metrics.record_properties(session, account_id, [(row["metric_id"], row["properties"]) for row in kept])
    hooks.notify(
        session,
        account_id,
        [
            hooks.WrittenEvent(
                r["id"],
                r["metric_id"],
                r["profile_id"],
                r["time"],
                r["backfill"],
                r["properties"],
                r["source"],
            )
            for r in kept
        ],
    )
    return [row["id"] for row in kept]


def _value_property(properties: dict[str, Any]) -> tuple[float | None, dict[str, Any]]:
    """A numeric `$value` property is the event's value when no `value` is given, as Klaviyo's
    track API reads it; it leaves the properties, and reads show it from the value again."""
    value = properties["$value"]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None, properties
    return value, {name: v for name, v in properties.items() if name != "$value"}


def record_event(
    session: Session,
    account_id: str,
    *,
    profile_id: str,
    metric_name: str,
    properties: dict[str, Any] | None = None,
    time: dt.datetime | None = None,
    value: float | None = None,
    unique_id: str | None = None,
    integration: str = KLAVIYO,
) -> str | None:
    """Record one of Klaviyo's own metrics for a profile (Subscribed to List, ...), in the caller's
    transaction. Returns the event id, or None when the same event was already recorded."""
    written = write_events(
        session,
        account_id,
        [
            NewEvent(
                profile_id=profile_id,
                metric=MetricKey(metric_name, integration),
                time=time or utcnow(),
                properties=properties or {},
                value=value,
                unique_id=unique_id or ulid(),
                source="internal",
            )
        ],
    )
    return written[0] if written else None
