"""Lists as JSON:API resources."""

from __future__ import annotations

from typing import Any

from tidings.jsonapi.documents import Urls, iso, resource
from tidings.lists.tables import List

LIST_RELATIONSHIPS = ("profiles", "tags", "flow-triggers")


def list_resource(
    urls: Urls, found: List, *, fields: list[str] | None = None, profile_count: int | None = None
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "name": found.name,
        "created": iso(found.created),
        "updated": iso(found.updated),
        "opt_in_process": found.opt_in_process,
    }
    if profile_count is not None:
        attributes["profile_count"] = profile_count
    relationships = {
        name: {
            "links": {
                "self": urls.relationship("lists", found.id, name),
                "related": urls.related("lists", found.id, name),
            }
        }
        for name in LIST_RELATIONSHIPS
    }
    return resource(
        "list",
        found.id,
        attributes,
        urls.resource("lists", found.id),
        relationships=relationships,
        fields=fields,
    )
