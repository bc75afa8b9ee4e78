"""Events and metrics as JSON:API resources."""

from __future__ import annotations

import uuid
from typing import Any

from tidings.db.ids import _CROCKFORD
from tidings.events.tables import Event, Metric, MetricProperty
from tidings.jsonapi.documents import Urls, relationship, resource

# Crockford's base32 digits -> the digits int(..., 32) reads (0-9, a-v): one C call per id.
_TO_BASE32 = str.maketrans(_CROCKFORD, "0123456789abcdefghijklmnopqrstuv")


def event_uuid(event_id: str) -> str:
    """The event's ULID as a UUID string (Klaviyo's `uuid` attribute)."""
    value = int(event_id.translate(_TO_BASE32), 32)
    return str(uuid.UUID(int=value & ((1 << 128) - 1)))


def event_properties(event: Event) -> dict[str, Any]:
    props = dict(event.properties or {})
    props["$event_id"] = event.unique_id
    if event.value is not None:
        props["$value"] = event.value
    return props


def event_resource(urls: Urls, event: Event, fields: list[str] | None = None) -> dict[str, Any]:
    attributes = {
        "timestamp": int(event.time.timestamp()),
        "event_properties": event_properties(event),
        "datetime": event.time.isoformat(),
        "uuid": event_uuid(event.id),
    }
    relationships = {
        "profile": relationship(
            "profile",
            event.profile_id,
            urls.relationship("events", event.id, "profile"),
            urls.related("events", event.id, "profile"),
            many=False,
        ),
        "metric": relationship(
            "metric",
            event.metric_id,
            urls.relationship("events", event.id, "metric"),
            urls.related("events", event.id, "metric"),
            many=False,
        ),
        # Attributions are not modelled, and the spec has no path to reach them: no links.
        "attributions": {"data": []},
    }
    return resource(
        "event",
        event.id,
        attributes,
        urls.resource("events", event.id),
        relationships=relationships,
        fields=fields,
    )


def metric_resource(urls: Urls, metric: Metric, fields: list[str] | None = None) -> dict[str, Any]:
    attributes = {
        "name": metric.name,
        "created": metric.created.isoformat(),
        "updated": metric.updated.isoformat(),
        "integration": metric.integration,
    }
    relationships = {
        "flow-triggers": relationship(
            "flow",
            [],
            urls.relationship("metrics", metric.id, "flow-triggers"),
            urls.related("metrics", metric.id, "flow-triggers"),
            many=True,
        )
    }
    return resource(
        "metric",
        metric.id,
        attributes,
        urls.resource("metrics", metric.id),
        relationships=relationships,
        fields=fields,
    )


def metric_property_resource(
    urls: Urls, prop: MetricProperty, *, samples: bool, fields: list[str] | None = None
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "label": prop.property,
        "property": prop.property,
        "inferred_type": prop.inferred_type.capitalize(),
    }
    if samples:
        attributes["sample_values"] = list(prop.sample_values or [])
    relationships = {
        "metric": relationship(
            "metric",
            prop.metric_id,
            urls.relationship("metric-properties", prop.id, "metric"),
            urls.related("metric-properties", prop.id, "metric"),
            many=False,
        )
    }
    return resource(
        "metric-property",
        prop.id,
        attributes,
        urls.resource("metric-properties", prop.id),
        relationships=relationships,
        fields=fields,
    )
