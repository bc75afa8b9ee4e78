"""JSON:API documents in Klaviyo's shape: every resource carries `links.self`; a document asked to
`include` carries `included` (`[]` when nothing is related) and, on each primary resource, the
linkage (`data`) of every relationship it named (`[]` or `null` when empty)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from fastapi.responses import JSONResponse

from tidings.jsonapi.errors import APIError, error_document

MEDIA_TYPE = "application/vnd.api+json"


class JSONAPIResponse(JSONResponse):
    media_type = MEDIA_TYPE


def error_response(
    errors: list[APIError], status: int, headers: dict[str, str] | None = None
) -> JSONAPIResponse:
    """Klaviyo's error document for these errors, with the status and headers given."""
    return JSONAPIResponse(error_document(errors), status_code=status, headers=headers)


class Urls:
    """Absolute URLs for resources and pages, from the configured public URL or the request."""

    def __init__(self, base: str, path: str, query: list[tuple[str, str]]) -> None:
        self.base = base.rstrip("/")
        self.path = path
        self.query = query

    def resource(self, collection: str, resource_id: str) -> str:
        return f"{self.base}/api/{collection}/{quote(resource_id, safe='')}"

    def related(self, collection: str, resource_id: str, name: str) -> str:
        return f"{self.resource(collection, resource_id)}/{name}"

    def relationship(self, collection: str, resource_id: str, name: str) -> str:
        return f"{self.resource(collection, resource_id)}/relationships/{name}"

    def current(self) -> str:
        return self._with(self.query)

    def page(self, cursor: str) -> str:
        query = [(k, v) for k, v in self.query if k != "page[cursor]"]
        return self._with([*query, ("page[cursor]", cursor)])

    def _with(self, query: list[tuple[str, str]]) -> str:
        url = f"{self.base}{self.path}"
        return f"{url}?{urlencode(query)}" if query else url


def iso(value: dt.datetime | None) -> str | None:
    """A timestamp as Klaviyo writes it in documents: UTC, to the second."""
    return value.astimezone(dt.UTC).isoformat(timespec="seconds") if value else None


def pick_fields(attributes: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """Sparse fieldsets: keep the named attributes; `a.b` keeps only `b` inside `a`."""
    if not fields:
        return attributes
    out: dict[str, Any] = {}
    for name in fields:
        head, _, rest = name.partition(".")
        if head not in attributes:
            continue
        if not rest:
            out[head] = attributes[head]
        elif isinstance(attributes[head], dict):
            inner = pick_fields(attributes[head], [rest])
            existing = out.get(head)
            out[head] = {**existing, **inner} if isinstance(existing, dict) else inner
    return out


def resource(
    type_: str,
    id_: str,
    attributes: dict[str, Any],
    self_url: str,
    *,
    relationships: dict[str, Any] | None = None,
    fields: list[str] | None = None,
) -> dict[str, Any]:
    obj: dict[str, Any] = {"type": type_, "id": id_, "attributes": pick_fields(attributes, fields)}
    if relationships is not None:
        obj["relationships"] = relationships
    obj["links"] = {"self": self_url}
    return obj


def relationship(
    type_: str, ids: Iterable[str] | str | None, self_url: str, related_url: str, *, many: bool
) -> dict[str, Any]:
    data: Any
    if many:
        data = [{"type": type_, "id": i} for i in (ids or [])]
    else:
        data = {"type": type_, "id": ids} if ids else None
    return {"data": data, "links": {"self": self_url, "related": related_url}}


class Include(list[str]):
    """The relationships a request named in `include`, in its order; `to_one` are those whose
    linkage is one resource (`data` an object or null), as the operation's spec says."""

    def __init__(self, names: Iterable[str] = (), to_one: Iterable[str] = ()) -> None:
        super().__init__(names)
        self.to_one = frozenset(to_one)


def link_included(resources: Iterable[dict[str, Any]], include: Sequence[str]) -> None:
    """Give every relationship named in `include` its linkage on each resource: what the domain
    filled in stays; a relationship it left with links only has nothing related (flow triggers
    before flows exist, say), so its `data` is `[]`, or `null` for a to-one relationship."""
    to_one = include.to_one if isinstance(include, Include) else frozenset()
    for obj in resources:
        relationships = obj.setdefault("relationships", {})
        for name in include:
            found = relationships.get(name) or {}
            if "data" not in found:
                relationships[name] = {"data": None if name in to_one else [], **found}


def single(
    data: dict[str, Any] | None,
    self_url: str,
    included: list[dict[str, Any]] | None = None,
    *,
    include: Sequence[str] = (),
) -> dict:
    """A document of one resource; `include`: what the request named (see `link_included`)."""
    doc: dict[str, Any] = {"data": data, "links": {"self": self_url}}
    if include:
        link_included([data] if data is not None else [], include)
        included = [] if included is None else included
    if included is not None:
        doc["included"] = included
    return doc


def collection(
    data: list[dict[str, Any]],
    urls: Urls,
    next_cursor: str | None = None,
    prev_cursor: str | None = None,
    included: list[dict[str, Any]] | None = None,
    *,
    include: Sequence[str] = (),
) -> dict[str, Any]:
    """A page of resources; `include`: what the request named (see `link_included`)."""
    if include:
        link_included(data, include)
        included = [] if included is None else included
    doc: dict[str, Any] = {
        "data": data,
        "links": {
            "self": urls.current(),
            "next": urls.page(next_cursor) if next_cursor else None,
            "prev": urls.page(prev_cursor) if prev_cursor else None,
        },
    }
    if included is not None:
        doc["included"] = included
    return doc
