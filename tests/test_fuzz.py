"""Schemathesis against the app's own OpenAPI document: no input may produce a 5xx.

Every operation the app documents is fuzzed (query parameters, headers, path ids and
bodies generated from the schema), with a valid key and revision most of the time so the
requests reach the handlers. Then the inputs random generation hardly ever makes (a lone
surrogate, a huge integer, a list of lists) go, on purpose, into every position of every body,
filter and page size.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REVISION, make_account
from tidings.campaigns import routes_audiences, routes_variations
from tidings.delivery import routes as delivery_routes
from tidings.delivery import routes_sending
from tidings.flows import routes as flow_routes
from tidings.flows import routes_runs as flow_runs
from tidings.jobs.worker import drain
from tidings.jsonapi import spec as klaviyo_operations
from tidings.jsonapi.spec import Operation
from tidings.profiles import extensions
from tidings.segments import routes_changes
from tidings.web import routes as web_routes
from tidings.webhooks import routes_deliveries as webhook_deliveries

# Tidings' own operations are declared where they are served, not in Klaviyo's index.
OWN = {
    op.operation_id: op
    for op in (
        extensions.GET_MERGES,
        extensions.GET_MERGE,
        extensions.CREATE_UNMERGE,
        *delivery_routes.OPERATIONS,
        *routes_sending.OPERATIONS,
        *routes_variations.OPERATIONS,
        *routes_audiences.OPERATIONS,
        *routes_changes.OPERATIONS,
        flow_routes.CREATE_FLOW_ACTION,
        *flow_runs.OPERATIONS,
        *webhook_deliveries.OPERATIONS,
        *web_routes.OPERATIONS,
    )
}


def operation_of(operation_id: str) -> Operation:
    return OWN.get(operation_id) or klaviyo_operations.operation(operation_id)


def _operations(app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_no_input_gives_a_server_error(app, db) -> None:
    account = make_account(db, name="Fuzz")
    operations = _operations(app)
    assert operations, "the app documents no operation"
    for operation in operations:

        @given(case=operation.as_strategy(), valid_headers=st.integers(0, 9))
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case, valid_headers: int) -> None:
            headers = dict(case.headers or {})
            if valid_headers:  # nine times in ten: authenticated, so the handler runs
                headers["Authorization"] = f"Klaviyo-API-Key {account.private_key}"
                headers["revision"] = REVISION
            response = case.call(headers=headers)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
            )

        try:
            fuzz()
        except AssertionError as error:
            pytest.fail(f"{operation.label}: {error}")


# ------------------------------------------------------- odd values in every position, on purpose
#
# Random generation rarely sends a lone surrogate, an integer of thousands of digits or a list of
# lists, and never in every position. Each body operation gets one body holding every property
# (a valid one where the schema says too little to make one: `_seeds`); each string in it, keys
# too, becomes a lone surrogate (a 400 naming it) and a list of lists; each number a huge integer
# (past int()'s 4,300 digits), one past 64 bits and a list of lists; each filter text in a body
# also gets the filters below. Each `filter` parameter gets, for every field and operator it
# allows, a huge integer (a 400), one past 64 bits and a list of lists (a 400); `page[size]` a
# huge integer (a 400). A query string cannot carry a lone surrogate: it is percent-decoded as
# UTF-8, with replacement.

SURROGATE = "\ud800"
HUGE = "9" * 5000
BIG = 10**30
NESTED = [["a"]]
_HUGE_MARK = "\x01huge\x01"
FILTER_TEXTS = ("equals(id," + HUGE + ")", f"equals(id,{BIG})", "any(id,[['a']])")
UNKNOWN_ID = "01HZZZZZZZZZZZZZZZZZZZZZZZ"


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _example(spec: dict, schema: dict, depth: int = 0) -> object:
    """A value for `schema` holding every property it declares (the first of each union)."""
    schema = _resolve(spec, schema)
    if depth > 12:
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for union in ("oneOf", "anyOf"):
        if union in schema:
            options = [s for s in schema[union] if _resolve(spec, s).get("type") != "null"]
            return _example(spec, options[0], depth + 1) if options else None
    if "allOf" in schema:
        merged: dict = {}
        for part in schema["allOf"]:
            value = _example(spec, part, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        value = {name: _example(spec, sub, depth + 1) for name, sub in schema.get("properties", {}).items()}
        extra = schema.get("additionalProperties")
        if extra:
            value["k"] = _example(spec, extra, depth + 1) if isinstance(extra, dict) and extra else "v"
        return value
    if kind == "array":
        return [_example(spec, schema.get("items", {}), depth + 1)]
    if kind in ("integer", "number"):
        return max(schema.get("minimum", 1), 1)
    if kind == "boolean":
        return True
    if schema.get("format") == "date-time":
        return "2026-01-01T00:00:00Z"
    return "x" * max(schema.get("minLength", 1), 1)


PRODUCT = {
    "title": "T",
    "description": "D",
    "url": "https://shop.example/p",
    "price": 10.5,
    "image_full_url": "https://i.example/f.png",
    "image_thumbnail_url": "https://i.example/t.png",
    "images": ["https://i.example/1.png"],
    "custom_metadata": {"k": "v", "n": 1},
    "published": True,
}
VARIANT = {**PRODUCT, "sku": "S{n}", "inventory_policy": 1, "inventory_quantity": 5}
CUSTOM = {"integration_type": "$custom", "catalog_type": "$default"}
PROFILE = {
    "email": "fz{n}@example.com",
    "external_id": "fz{n}",
    "first_name": "F",
    "last_name": "Z",
    "organization": "O",
    "locale": "en-US",
    "title": "T",
    "image": "https://i.example/x.png",
    "location": {
        "address1": "1 Main St",
        "city": "Boston",
        "country": "US",
        "region": "MA",
        "zip": "02110",
        "timezone": "America/New_York",
        "latitude": 42.36,
        "longitude": -71.06,
        "ip": "127.0.0.1",
    },
    "properties": {"k": "v", "n": 1, "l": ["a", 2], "o": {"p": 1.5}},
}
PATCH = {"patch_properties": {"append": {"l": "b"}, "unappend": {"l": 2}, "unset": "o"}}


def _seeds(ids: dict[str, str]) -> dict[str, object]:
    """Valid bodies for the operations whose schema says too little to make one (the schema's
    own example gets no further than validation), so that every value reaches the database."""

    def data(kind: str, attributes: dict, **more: object) -> dict:
        return {"data": {"type": kind, "attributes": attributes, **more}}

    item_ref = {"item": {"data": {"type": "catalog-item", "id": ids["item"]}}}
    window = ["greater-or-equal(datetime,2026-01-01T00:00:00)", "less-than(datetime,2026-02-01T00:00:00)"]
    aggregate = {
        "metric_id": ids["metric"],
        "measurements": ["count", "sum_value"],
        "interval": "day",
        "page_size": 500,
        "by": ["$message"],
        "timezone": "UTC",
        "filter": [*window, 'equals($message,"x")'],
    }
    return {
        "create_profile": data("profile", PROFILE),
        "create_or_update_profile": data("profile", PROFILE),
        "update_profile": data(
            "profile",
            {**PROFILE, "email": "fzp@example.com", "external_id": "fzp"},
            id=ids["profile"],
            meta=PATCH,
        ),
        "create_client_profile": data("profile", {**PROFILE, "external_id": None}, meta=PATCH),
        "create_template": data(
            "template", {"name": "FZ{n}", "editor_type": "CODE", "html": "<p>{{ x }}</p>", "text": "x"}
        ),
        "update_template": data(
            "template", {"name": "FZ{n}", "html": "<p>y</p>", "text": "y"}, id=ids["template"]
        ),
        "create_catalog_item": data("catalog-item", {**PRODUCT, **CUSTOM, "external_id": "FZ{n}"}),
        "update_catalog_item": data("catalog-item", PRODUCT, id=ids["item"]),
        "create_catalog_variant": data(
            "catalog-variant", {**VARIANT, **CUSTOM, "external_id": "FZV{n}"}, relationships=item_ref
        ),
        "update_catalog_variant": data("catalog-variant", VARIANT, id=ids["variant"]),
        "create_catalog_category": data("catalog-category", {**CUSTOM, "external_id": "FZC{n}", "name": "C"}),
        "create_list": data("list", {"name": "FZ{n}"}),
        "update_list": data("list", {"name": "FZ{n}"}, id=ids["list"]),
        "query_metric_aggregates": data("metric-aggregate", aggregate),
        "create_campaign": data(
            "campaign", {**_campaign(ids["list"]), "campaign-messages": {"data": [MESSAGE]}}
        ),
        "update_campaign": data("campaign", _campaign(ids["list"]), id=ids["campaign"]),
        "create_campaign_clone": data("campaign", {"new_name": "FZ{n}"}, id=ids["campaign"]),
        "update_campaign_message": data(
            "campaign-message", MESSAGE["attributes"], id=ids["campaign_message"]
        ),
        "update_campaign_variation": data(
            "campaign-variation",
            {
                "definition": {
                    "name": "FZ",
                    "details": {"channel": "email", "subject": "S", "template_id": ids["template"]},
                }
            },
            id=ids["campaign_message"],
        ),
        "update_campaign_audience": data(
            "campaign-audience",
            {"definition": {"name": "FZ", "included": [ids["list"]], "excluded": [], "priority": 1}},
            id=ids["campaign"],
        ),
        "update_image_for_campaign_message": {"data": {"type": "image", "id": "123"}},
        "assign_template_to_campaign_message": {
            "data": {
                "type": "campaign-message",
                "id": ids["campaign_message"],
                "relationships": {"template": {"data": {"type": "template", "id": ids["template"]}}},
            }
        },
    }


MESSAGE = {
    "type": "campaign-message",
    "attributes": {
        "definition": {
            "channel": "email",
            "label": "FZ",
            "content": {
                "subject": "S",
                "preview_text": "P",
                "from_email": "a@example.com",
                "from_label": "A",
            },
        }
    },
}


def _campaign(list_id: str) -> dict[str, object]:
    return {
        "name": "FZ{n}",
        "audiences": {"included": [list_id], "excluded": []},
        "send_strategy": {
            "method": "throttled",
            "datetime": "2030-01-01T00:00:00Z",
            "throttle_percentage": 10,
        },
        "send_options": {"use_smart_sending": True},
        "tracking_options": {
            "add_tracking_params": True,
            "custom_tracking_params": [{"type": "dynamic", "value": "campaign_id", "name": "utm_id"}],
            "is_tracking_clicks": True,
            "is_tracking_opens": True,
        },
    }


def _resources(client, db, headers: dict[str, str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One of each resource the seeds name (a metric, through an event)."""

    def created(path: str, kind: str, attributes: dict, **more: object) -> str:
        body = {"data": {"type": kind, "attributes": attributes, **more}}
        response = client.post(path, content=json.dumps(body).encode(), headers=headers)
        assert response.status_code == 201, response.text
        return str(response.json()["data"]["id"])

    event = {
        "properties": {"k": "v"},
        "time": "2026-01-02T00:00:00Z",
        "metric": {"data": {"type": "metric", "attributes": {"name": "Fuzzed"}}},
        "profile": {"data": {"type": "profile", "attributes": {"email": "fzm@example.com"}}},
    }
    sent = client.post(
        "/api/events", content=json.dumps({"data": {"type": "event", "attributes": event}}), headers=headers
    )
    assert sent.status_code == 202, sent.text
    drain(db)
    [metric] = client.get("/api/metrics", headers=headers).json()["data"]
    item = created("/api/catalog-items", "catalog-item", {**PRODUCT, "external_id": "FZITEM"})
    variant_ref = {"item": {"data": {"type": "catalog-item", "id": item}}}
    list_id = created("/api/lists", "list", {"name": "FZ"})
    campaign = client.post(
        "/api/campaigns",
        content=json.dumps(
            {
                "data": {
                    "type": "campaign",
                    "attributes": {
                        **_campaign(list_id),
                        "name": "FZ",
                        "campaign-messages": {"data": [MESSAGE]},
                    },
                }
            }
        ),
        headers=headers,
    )
    assert campaign.status_code == 201, campaign.text
    return {
        "profile": created("/api/profiles", "profile", {"email": "fzp@example.com"}),
        "template": created("/api/templates", "template", {"name": "FZ", "editor_type": "CODE", "html": "x"}),
        "item": item,
        "variant": created(
            "/api/catalog-variants",
            "catalog-variant",
            {**VARIANT, "external_id": "FZVAR"},
            relationships=variant_ref,
        ),
        "list": list_id,
        "metric": metric["id"],
        "campaign": campaign.json()["data"]["id"],
        "campaign_message": campaign.json()["data"]["relationships"]["campaign-messages"]["data"][0]["id"],
    }


PATH_IDS = {
    "/api/profiles/": "profile",
    "/api/templates/": "template",
    "/api/catalog-items/": "item",
    "/api/catalog-variants/": "variant",
    "/api/lists/": "list",
    "/api/campaigns/": "campaign",
    "/api/campaign-messages/": "campaign_message",
    "/api/campaign-variations/": "campaign_message",  # a message is its own default variation
    "/api/campaign-audiences/": "campaign",  # a campaign's one audience has its id
}


def _url(path: str, ids: dict[str, str]) -> str:
    kind = next((kind for prefix, kind in PATH_IDS.items() if path.startswith(prefix + "{")), None)
    return re.sub(r"\{[^}]+\}", quote(ids[kind], safe="") if kind else UNKNOWN_ID, path)


def _positions(value: object, path: tuple = ()) -> list[tuple[tuple, str]]:
    """(path, kind) of every string, number and key in `value`; a key's path ends in ("key", k)."""
    found: list[tuple[tuple, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.append(((*path, ("key", key)), "key"))
            found += _positions(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _positions(item, (*path, index))
    elif isinstance(value, str):
        found.append((path, "string"))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        found.append((path, "number"))
    return found


def _replaced(value: object, path: tuple, new: object) -> object:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(head, tuple):  # a key: renamed, its value kept
        assert isinstance(value, dict)
        return {(new if k == head[1] else k): v for k, v in value.items()}
    if isinstance(value, dict):
        return {k: (_replaced(v, rest, new) if k == head else v) for k, v in value.items()}
    assert isinstance(value, list)
    return [_replaced(v, rest, new) if i == head else v for i, v in enumerate(value)]


def _pointer(path: tuple) -> str:
    parts = [str(p[1] if isinstance(p, tuple) else p) for p in path]
    return "".join("/" + part.replace(SURROGATE, "\\ud800") for part in parts) or "/"


def _encoded(body: object, n: int) -> bytes:
    # json.dumps writes a lone surrogate as its escape; the huge integer is spliced in as text,
    # so that the test does not lift int()'s limit for the app it runs in. `{n}` makes names and
    # external ids unique, so that each request can get as far as the database.
    return json.dumps(body).replace(json.dumps(_HUGE_MARK), HUGE).replace("{n}", str(n)).encode()


def _body_cases(spec: dict, op: dict, seeds: dict[str, object]) -> Iterator[tuple[str, object, str | None]]:
    """(what was changed, the body, the pointer its 400 must name, if it must be one)."""
    schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return
    base = seeds.get(op["operationId"]) or _example(spec, schema)
    for where, kind in _positions(base):
        if kind == "key":
            variants: list[object] = [SURROGATE]
        elif kind == "string":
            variants = [SURROGATE, NESTED, *(FILTER_TEXTS if "filter" in where else ())]
        else:
            variants = [_HUGE_MARK, BIG, NESTED]
        named = (*where[:-1], ("key", SURROGATE)) if kind == "key" else where
        for new in variants:
            label = f"{_pointer(where)} <- {str(new)[:24]!r}"
            yield label, _replaced(base, where, new), _pointer(named) if new == SURROGATE else None


def _query_cases(op: dict) -> Iterator[tuple[str, str, bool]]:
    """(parameter, value, whether it must be a 400 naming the parameter)."""
    params = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
    if "page[size]" in params:
        yield "page[size]", HUGE, True
    if "filter" in params:
        for field, names in operation_of(op["operationId"]).filters.items():
            for text in FILTER_TEXTS:
                yield "filter", text.replace("id", field, 1), str(BIG) not in text
            for name in names:
                if name != "has":
                    yield "filter", f"{name}({field},[['a']])", True


def _sources(response) -> list[object]:  # type: ignore[no-untyped-def]
    try:
        return [error.get("source") for error in response.json().get("errors", [])]
    except ValueError:  # not JSON (a 202 has no body)
        return []


def test_odd_values_in_every_position_give_a_400_not_a_server_error(app, client, db) -> None:
    account = make_account(db, name="Odd values")
    spec = app.openapi()
    ids = _resources(client, db, {**account.headers(), "content-type": "application/vnd.api+json"})
    seeds = _seeds(ids)
    failures: list[str] = []
    sent = 0
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            url = _url(path, ids)
            headers = {**account.headers(), "content-type": "application/vnd.api+json"}
            if path.startswith("/client/"):
                url += f"?company_id={account.public_key}"
                del headers["Authorization"]
            for label, body, pointer in _body_cases(spec, op, seeds):
                sent += 1
                response = client.request(method, url, content=_encoded(body, sent), headers=headers)
                sources = _sources(response)
                wrong = pointer is not None and (
                    response.status_code != 400 or {"pointer": pointer} not in sources
                )
                if response.status_code >= 500 or wrong:
                    failures.append(
                        f"{method.upper()} {path} {label}: {response.status_code} {response.text[:200]}"
                    )
            for name, value, refused in _query_cases(op):
                response = client.request(method, url, params={name: value}, headers=headers)
                sources = _sources(response)
                wrong = refused and (response.status_code != 400 or sources[:1] != [{"parameter": name}])
                if response.status_code >= 500 or wrong:
                    failures.append(
                        f"{method.upper()} {path} ?{name}={value[:40]}: {response.status_code} {response.text[:200]}"
                    )
    assert not failures, "\n".join(failures[:50]) + f"\n({len(failures)} in all)"
