"""Build tidings/jsonapi/operations.json from Klaviyo's OpenAPI spec.

The spec is the wire contract; this index keeps only what the server enforces per
operation: method and path, scopes, rate limits, filter whitelist, sorts, page sizes,
includes, sparse fieldsets and additional fields. Run it when the spec changes:

    python scripts/build_spec_index.py ../shared/klaviyo-openapi/stable.json
"""

from __future__ import annotations

import json
import re
import sys
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


def index_operation(method: str, path: str, op: dict) -> dict:
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
        elif name.startswith("fields["):
            entry.setdefault("fields", {})[name[7:-1]] = schema.get("items", {}).get("enum", [])
        elif name.startswith("additional-fields["):
            entry.setdefault("additional_fields", {})[name[18:-1]] = schema.get("items", {}).get("enum", [])
    return entry


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    index: dict[str, dict] = {}
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            if isinstance(op, dict) and "operationId" in op:
                index[op["operationId"]] = index_operation(method, path, op)
    revision = spec.get("info", {}).get("version", "")
    OUT.write_text(json.dumps({"revision": revision, "operations": index}, indent=1, sort_keys=True) + "\n")
    print(f"{len(index)} operations -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/klaviyo-openapi/stable.json")
