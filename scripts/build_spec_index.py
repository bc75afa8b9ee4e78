"""Build tidings/jsonapi/operations.json from the Klaviyo OpenAPI spec.

The spec (the Klaviyo OpenAPI spec, revision 2026-07-15: public, MIT licence, published at
https://github.com/klaviyo/openapi as `openapi/stable.json`) is the wire contract; this index
keeps only what the server enforces per operation: method and path, scopes, rate limits, filter
whitelist, sorts, page sizes, includes, sparse fieldsets and additional fields. The spec itself is
not in this repository: download the revision you want, then

    python scripts/build_spec_index.py path/to/stable.json
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

FILTER_LINE = re.compile(r"`([^`]+)`: ((?:`[^`]+`(?:, )?)+)")
RATE = re.compile(r"(\d+)/([sm])")
OUT = Path(__file__).resolve().parent.parent / "tidings" / "jsonapi" / "operations.json"


def parse_filters(description: str) -> dict[str, list[str]]:
    allowed = description.split("Allowed field(s)/operator(s):", 1)
    if len(allowed) < 2:
        return {}
    filters: dict[str, list[str]] = {}
    for field, ops in FILTER_LINE.findall(allowed[1]):
        filters[field] = re.findall(r"`([^`]+)`", ops)
    return filters


def parse_rate(text: str | None) -> int | None:
    if not text:
        return None
    match = RATE.fullmatch(text.strip())
    return int(match.group(1)) if match else None


def _schema(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        node = spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def to_one_includes(spec: dict, op: dict, includes: list[str]) -> list[str]:
    """The included relationships whose linkage is one resource (`data` an object or null), read
    from the 200 response's resource schema; the others are to-many (`data` a list)."""
    content = op.get("responses", {}).get("200", {}).get("content", {})
    schema = next(iter(content.values()), {}).get("schema")
    if not schema:
        return []
    data = _schema(spec, _schema(spec, schema).get("properties", {}).get("data", {}))
    if data.get("type") == "array":
        data = _schema(spec, data.get("items", {}))
    related = data.get("properties", {}).get("relationships", {}).get("properties", {})
    linkage = {name: related.get(name, {}).get("properties", {}).get("data", {}) for name in includes}
    return [name for name, shape in linkage.items() if shape.get("type") == "object"]


def to_one_everywhere(spec: dict, index: dict[str, dict]) -> None:
    """A resource schema that leaves an included relationship out says nothing of its shape; one
    name has one shape across the spec (`metric` is one resource wherever it is included)."""
    to_one = {name for entry in index.values() for name in entry.get("includes_to_one", [])}
    for entry in index.values():
        if one := [name for name in entry.get("includes", []) if name in to_one]:
            entry["includes_to_one"] = one


def index_operation(method: str, path: str, op: dict, spec: dict | None = None) -> dict:
    entry: dict = {
        "method": method.upper(),
        "path": path,
        "tag": (op.get("tags") or [""])[0],
        "scopes": op.get("x-klaviyo-scopes", []),
    }
    limits = op.get("x-klaviyo-ratelimit") or {}
    entry["rate_limit"] = {
        "burst": parse_rate(limits.get("burst")),
        "steady": parse_rate(limits.get("steady")),
    }
    for param in op.get("parameters", []):
        name, schema = param["name"], param.get("schema", {})
        if name == "filter":
            entry["filters"] = parse_filters(param.get("description", ""))
        elif name == "sort":
            entry["sorts"] = schema.get("enum", [])
        elif name == "page[size]":
            entry["page_size"] = {"default": schema.get("default"), "max": schema.get("maximum")}
        elif name == "page[cursor]":
            entry["cursor"] = True
        elif name == "include":
            entry["includes"] = schema.get("items", {}).get("enum", [])
            if spec is not None and (one := to_one_includes(spec, op, entry["includes"])):
                entry["includes_to_one"] = one
        elif name.startswith("fields["):
            entry.setdefault("fields", {})[name[7:-1]] = schema.get("items", {}).get("enum", [])
        elif name.startswith("additional-fields["):
            entry.setdefault("additional_fields", {})[name[18:-1]] = schema.get("items", {}).get("enum", [])
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Build tidings/jsonapi/operations.json from a copy of the Klaviyo OpenAPI spec.",
        epilog="The spec: https://github.com/klaviyo/openapi, openapi/stable.json (MIT).",
    )
    parser.add_argument("spec", type=Path, help="the spec's JSON file, e.g. openapi/stable.json")
    spec_path: Path = parser.parse_args().spec
    if not spec_path.is_file():
        parser.error(f"{spec_path}: no such file")
    try:
        spec = json.loads(spec_path.read_text())
    except ValueError as error:
        parser.error(f"{spec_path} is not JSON: {error}")
    if not isinstance(spec, dict) or "paths" not in spec:
        parser.error(f"{spec_path} is not an OpenAPI document (it has no paths)")
    index: dict[str, dict] = {}
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            if isinstance(op, dict) and "operationId" in op:
                index[op["operationId"]] = index_operation(method, path, op, spec)
    to_one_everywhere(spec, index)
    revision = spec.get("info", {}).get("version", "")
    OUT.write_text(json.dumps({"revision": revision, "operations": index}, indent=1, sort_keys=True) + "\n")
    print(f"{len(index)} operations -> {OUT}")


if __name__ == "__main__":
    main()
