"""What lists add to a profile as the API shows it: `include=lists` (registered on
`tidings.profiles.facets` by the composition root)."""

from __future__ import annotations

from typing import Any

from tidings.jsonapi.documents import Urls
from tidings.lists.render import list_resource
from tidings.lists.repository import lists_of_profiles
from tidings.profiles.facets import IncludedRelationship


def _render(urls: Urls, found: Any, fields: list[str] | None) -> dict[str, Any]:
    return list_resource(urls, found, fields=fields)


LISTS = IncludedRelationship("lists", "list", lists_of_profiles, _render)
