"""What other domains add to a profile as the API shows it.

A profile's document carries more than the profiles domain keeps: `subscriptions` (consent),
`predictive_analytics` (computed from events), filters and sorts on suppressions (consent),
and the `lists` and `segments` a profile belongs to (`include=lists,segments`). The profiles
domain knows none of those domains; each offers its facets, and the composition root
registers them here. Relationship names and types are the spec's and stay declared in
render.py: a relationship without a registered facet is rendered empty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tidings.jsonapi.documents import Urls
from tidings.jsonapi.filters import FilterField

# (session, account_id, profile ids) -> profile id -> the field's value
ReadField = Callable[[Session, str, list[str]], dict[str, Any]]
# (session, account_id, profile ids) -> (profile id, related row) pairs
Members = Callable[[Session, str, list[str]], Iterable[tuple[str, Any]]]
# (urls, related row, fields) -> resource
RenderRelated = Callable[[Urls, Any, list[str] | None], dict[str, Any]]


@dataclass(frozen=True)
class AdditionalField:
    """An `additional-fields[profile]` value: the attribute of that name, read for a page at once."""

    name: str
    read: ReadField


@dataclass(frozen=True)
class IncludedRelationship:
    """What `include=<name>` adds: each profile's related rows, rendered as `resource_type`."""

    name: str
    resource_type: str
    members: Members
    render: RenderRelated


@dataclass(frozen=True)
class SortField:
    """A sort on something kept outside the profile row: a correlated scalar expression."""

    name: str
    expression: Callable[[], Any]


_fields: dict[str, AdditionalField] = {}
_relationships: dict[str, IncludedRelationship] = {}
_filters: dict[str, FilterField] = {}
_sorts: dict[str, SortField] = {}


def _put(registry: dict[str, Any], name: str, value: Any) -> None:
    known = registry.get(name)
    if known is not None and known is not value and known != value:
        raise ValueError(f"profile facet {name!r} is registered twice")
    registry[name] = value


def add_field(field: AdditionalField) -> None:
    _put(_fields, field.name, field)


def add_relationship(relationship: IncludedRelationship) -> None:
    _put(_relationships, relationship.name, relationship)


def add_filters(filters: dict[str, FilterField]) -> None:
    for name, field in filters.items():
        _put(_filters, name, field)


def add_sort(sort: SortField) -> None:
    _put(_sorts, sort.name, sort)


def additional_field(name: str) -> AdditionalField | None:
    return _fields.get(name)


def included_relationship(name: str) -> IncludedRelationship | None:
    return _relationships.get(name)


def filters() -> dict[str, FilterField]:
    return dict(_filters)


def sort(name: str) -> SortField | None:
    return _sorts.get(name)
