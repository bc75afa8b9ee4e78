"""Segments as JSON:API resources."""

from __future__ import annotations

from typing import Any

from tidings.jsonapi.documents import Urls, iso, resource
from tidings.segments.tables import Segment

RELATIONSHIPS = ("profiles", "tags", "flow-triggers")


def segment_resource(
    urls: Urls, segment: Segment, *, fields: list[str] | None = None, profile_count: int | None = None
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "name": segment.name,
        "definition": segment.definition,
        "created": iso(segment.created),
        "updated": iso(segment.updated),
        "is_active": bool(segment.is_active),
        "is_processing": bool(segment.is_processing),
        "is_starred": bool(segment.is_starred),
    }
    if profile_count is not None:
        attributes["profile_count"] = profile_count
    relationships = {
        name: {
            "links": {
                "self": urls.relationship("segments", segment.id, name),
                "related": urls.related("segments", segment.id, name),
            }
        }
        for name in RELATIONSHIPS
    }
    return resource(
        "segment",
        segment.id,
        attributes,
        urls.resource("segments", segment.id),
        relationships=relationships,
        fields=fields,
    )
