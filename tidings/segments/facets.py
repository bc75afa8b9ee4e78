"""What segments add to a profile as the API shows it: `include=segments` (registered on
`tidings.profiles.facets` by the composition root)."""

from __future__ import annotations

from typing import Any

from tidings.jsonapi.documents import Urls
from tidings.profiles.facets import IncludedRelationship
from tidings.segments.render import segment_resource
from tidings.segments.repository import segments_of_profiles


def _render(urls: Urls, found: Any, fields: list[str] | None) -> dict[str, Any]:
    return segment_resource(urls, found, fields=fields)


SEGMENTS = IncludedRelationship("segments", "segment", segments_of_profiles, _render)
