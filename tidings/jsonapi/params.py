"""Query parameters of a JSON:API request, checked against what the operation allows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tidings.jsonapi.documents import Include
from tidings.jsonapi.errors import InvalidInput
from tidings.jsonapi.filters import Node, check_whitelist, parse_filter
from tidings.jsonapi.pagination import Cursor, decode_cursor
from tidings.jsonapi.spec import Operation


@dataclass
class QueryParams:
    filter_text: str | None = None
    filter: Node | None = None
    sort: str | None = None
    page_size: int = 20
    cursor: Cursor | None = None
    fields: dict[str, list[str]] = field(default_factory=dict)
    include: Include = field(default_factory=Include)
    additional_fields: dict[str, list[str]] = field(default_factory=dict)

    @property
    def sort_field(self) -> str | None:
        return self.sort.lstrip("-") if self.sort else None

    @property
    def descending(self) -> bool:
        return bool(self.sort and self.sort.startswith("-"))


def _list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _bracketed(name: str, prefix: str) -> str | None:
    if name.startswith(prefix + "[") and name.endswith("]"):
        return name[len(prefix) + 1 : -1]
    return None


def parse_query(op: Operation, query: Mapping[str, str]) -> QueryParams:
    params = QueryParams(page_size=op.page_default or 20)
    cursor_text = query.get("page[cursor]")
    if cursor_text and op.cursor:
        params.cursor = decode_cursor(cursor_text, op.operation_id)
        params.page_size = params.cursor.size
        params.sort = params.cursor.sort
        params.filter_text = params.cursor.filter

    if "filter" in query and op.filters:
        params.filter_text = query["filter"]
    elif "filter" in query:
        raise InvalidInput("This endpoint does not support filtering.", parameter="filter")
    if params.filter_text:
        params.filter = parse_filter(params.filter_text)
        check_whitelist(params.filter, op.filters)

    if "sort" in query:
        if query["sort"] not in op.sorts:
            allowed = ", ".join(op.sorts) or "none"
            raise InvalidInput(f"Invalid sort {query['sort']!r}; allowed: {allowed}.", parameter="sort")
        if params.cursor is not None and params.cursor.sort != query["sort"]:
            raise InvalidInput("The sort differs from the page cursor's.", parameter="sort")
        params.sort = query["sort"]

    if "page[size]" in query and op.page_max:
        raw = query["page[size]"].strip()
        # ASCII digits only (`isdigit` passes '²', which `int` refuses), and few of them (`int`
        # refuses more than 4,300 digits).
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not 1 <= int(raw) <= op.page_max:
            raise InvalidInput(
                f"page[size] must be an integer from 1 to {op.page_max}.", parameter="page[size]"
            )
        params.page_size = int(raw)

    for name, value in query.items():
        if (kind := _bracketed(name, "fields")) is not None:
            known = op.fields.get(kind)
            if known is None:
                raise InvalidInput(f"Sparse fieldsets are not available for {kind!r}.", parameter=name)
            wanted = _list(value)
            for item in wanted:
                if item not in known:
                    raise InvalidInput(f"{item!r} is not a field of {kind!r}.", parameter=name)
            params.fields[kind] = wanted
        elif (kind := _bracketed(name, "additional-fields")) is not None:
            extra = op.additional_fields.get(kind)
            if extra is None:
                raise InvalidInput(f"Additional fields are not available for {kind!r}.", parameter=name)
            wanted = _list(value)
            for item in wanted:
                if item not in extra:
                    raise InvalidInput(f"{item!r} is not an additional field of {kind!r}.", parameter=name)
            params.additional_fields[kind] = wanted
    params.include = Include(to_one=op.includes_to_one)
    if "include" in query:
        for item in _list(query["include"]):
            if item not in op.includes:
                names = ", ".join(op.includes) or "none"
                raise InvalidInput(f"Invalid include {item!r}; allowed: {names}.", parameter="include")
            params.include.append(item)
    return params
