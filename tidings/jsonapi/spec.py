"""Per-operation facts taken from the Klaviyo OpenAPI spec, revision 2026-07-15 (public, MIT:
https://github.com/klaviyo/openapi, `openapi/stable.json`), kept in operations.json next to this
module; scripts/build_spec_index.py rebuilds that file from a copy of the spec."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

INDEX = Path(__file__).resolve().parent / "operations.json"


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    tag: str
    scopes: tuple[str, ...]
    burst: int | None
    steady: int | None
    filters: dict[str, list[str]] = field(default_factory=dict)
    sorts: tuple[str, ...] = ()
    page_default: int | None = None
    page_max: int | None = None
    cursor: bool = False
    includes: tuple[str, ...] = ()
    includes_to_one: tuple[str, ...] = ()  # the includes whose linkage is one resource, not a list
    fields: dict[str, list[str]] = field(default_factory=dict)
    additional_fields: dict[str, list[str]] = field(default_factory=dict)


@lru_cache
def _index() -> dict[str, dict]:
    return json.loads(INDEX.read_text())["operations"]


def spec_revision() -> str:
    return str(json.loads(INDEX.read_text())["revision"])


@lru_cache
def operation(operation_id: str) -> Operation:
    """One of Klaviyo's operations. Tidings' own (under /api/x-tidings/...) are `Operation`s
    their domains declare and hand to `tidings.http.api` themselves."""
    raw = _index()[operation_id]
    page = raw.get("page_size") or {}
    rate = raw.get("rate_limit") or {}
    return Operation(
        operation_id=operation_id,
        method=raw["method"],
        path=raw["path"],
        tag=raw.get("tag", ""),
        scopes=tuple(raw.get("scopes", [])),
        burst=rate.get("burst"),
        steady=rate.get("steady"),
        filters=raw.get("filters", {}),
        sorts=tuple(raw.get("sorts", [])),
        page_default=page.get("default"),
        page_max=page.get("max"),
        cursor=bool(raw.get("cursor")),
        includes=tuple(raw.get("includes", [])),
        includes_to_one=tuple(raw.get("includes_to_one", [])),
        fields=raw.get("fields", {}),
        additional_fields=raw.get("additional_fields", {}),
    )


def all_operations() -> list[str]:
    return sorted(_index())
