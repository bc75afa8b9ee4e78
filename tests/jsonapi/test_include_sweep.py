"""Every `include` of every operation the app serves, on real data: the document carries `included`
(`[]` when nothing is related), each primary resource carries the linkage (`data`) of every
relationship the request named (`[]` or `null` when empty), linkage and `included` name the same
resources, and no relationship link of a resource points at a route that 404s.

Export tools and agent integrations index `relationships[name]["data"]` and `included`
unconditionally; a missing key is a crash for them. The operations and their `include` values come
from the spec's index (operations.json, built from Klaviyo's OpenAPI); the data from each route's
isolation case, which makes a real resource of account A with what is related to it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.catalogs import isolation_cases as catalog_cases
from tests.catalogs.factories import PREFIX, category_body, item_body, variant_body
from tests.conftest import make_account
from tests.events.factories import make_events
from tests.isolation import Env, discover
from tests.lists.isolation_cases import a_list
from tests.profiles.isolation_cases import a_token
from tidings.app import served_operations
from tidings.catalogs.bulk import KINDS
from tidings.jobs.worker import drain
from tidings.jsonapi.spec import operation

CASES, LISTINGS = discover()

# (operation, include) whose linkage is empty by design today, each with the reason. Every other
# pair must show a related resource somewhere in the sweep, so a relationship a domain forgot to
# load (an empty `data` it made up) fails here.
EMPTY_BY_DESIGN: dict[str, str] = {
    "flow-triggers": "flows are not built: nothing is triggered by a list, segment or metric",
    "conversations": "conversations (SMS inbox) are not built",
    "attributions": "attribution of events to messages is not built",
    "image": "images are not built",
}
# (operation id, include) pairs empty by design on the one resource the sweep reads.
EMPTY_PAIRS: dict[tuple[str, str], str] = {
    ("get_mapped_metric", "metric"): "a mapping names a metric or a custom metric, never both: the one "
    "read names a custom metric, and get_mapped_metrics shows both kinds",
}


def _related_profile(env: Env) -> str:
    """A's profile in a list and (after the segment jobs ran) a segment, with a push token."""
    token = a_token(env)
    listed = a_list(env)
    env.as_a(
        "POST",
        f"/api/lists/{listed['id']}/relationships/profiles",
        json={"data": [{"type": "profile", "id": token["profile"]}]},
    )
    condition = {
        "type": "profile-property",
        "property": "email",
        "filter": {"type": "existence", "operator": "is-set"},
    }
    definition = {"condition_groups": [{"conditions": [condition]}]}
    body = {"data": {"type": "segment", "attributes": {"name": "With email", "definition": definition}}}
    assert env.as_a("POST", "/api/segments", json=body).status_code == 201
    return token["profile"]


def _event(env: Env) -> str:
    (event_id,) = make_events(env.db, env.a.id, [{"metric": "Swept", "profile_id": _related_profile(env)}])
    return event_id


def _updated_job(env: Env, kind: Any) -> str:
    """An update job over a resource that exists, so the job names what it updated."""
    catalog_cases.catalog(env)
    made = {
        "catalog-item": ("/api/catalog-items", item_body("BULK")),
        "catalog-variant": ("/api/catalog-variants", variant_body("BULK", "ITEM")),
        "catalog-category": ("/api/catalog-categories", category_body("BULK")),
    }[kind.resource]
    assert env.as_a("POST", made[0], json=made[1]).status_code == 201
    entry = {"type": kind.resource, "id": PREFIX + "BULK", "attributes": {}}
    body = {"data": {"type": kind.job_type, "attributes": {kind.key: {"data": [entry]}}}}
    response = env.as_a("POST", f"/api/{kind.collection}", json=body)
    assert response.status_code == 202, response.text
    return f"/api/{kind.collection}/{response.json()['data']['id']}"


def _mapped(env: Env) -> str:
    """Revenue mapped to Placed Order (the default), ordered_product to a custom metric."""
    make_events(env.db, env.a.id, [{"metric": "Placed Order"}])
    metric = env.as_a("GET", "/api/metrics").json()["data"][0]["id"]
    definition = {"aggregation_method": "count", "metric_groups": [{"metric_id": metric}]}
    body = {"data": {"type": "custom-metric", "attributes": {"name": "Swept", "definition": definition}}}
    custom = env.as_a("POST", "/api/custom-metrics", json=body).json()["data"]["id"]
    linkage = {"custom-metric": {"data": {"type": "custom-metric", "id": custom}}}
    patch = {"data": {"type": "mapped-metric", "id": "ordered_product", "relationships": linkage}}
    assert env.as_a("PATCH", "/api/mapped-metrics/ordered_product", json=patch).status_code == 200
    return "ordered_product"


# Routes whose isolation case makes a resource with nothing related: a richer one here.
SETUPS: dict[str, Any] = {
    "/api/profiles": lambda env: _related_profile(env) and "/api/profiles",
    "/api/profiles/{id}": lambda env: f"/api/profiles/{_related_profile(env)}",
    "/api/events": lambda env: _event(env) and "/api/events",
    "/api/events/{id}": lambda env: f"/api/events/{_event(env)}",
    "/api/mapped-metrics": lambda env: _mapped(env) and "/api/mapped-metrics",
    "/api/mapped-metrics/{id}": lambda env: f"/api/mapped-metrics/{_mapped(env)}",
    **{
        f"/api/{kind.collection}/{{job_id}}": (lambda env, kind=kind: _updated_job(env, kind))
        for kind in KINDS
        if kind.verb == "update"
    },
}


def _tag_everything(env: Env, url: str) -> None:
    """Put a tag on the resources the route answers (lists, segments, campaigns)."""
    resources = _primary(env.as_a("GET", url).json())
    created = env.as_a("POST", "/api/tags", json={"data": {"type": "tag", "attributes": {"name": "Swept"}}})
    assert created.status_code == 201, created.text
    tag_id = created.json()["data"]["id"]
    for resource in resources:
        body = {"data": [{"type": resource["type"], "id": resource["id"]}]}
        tagged = env.as_a("POST", f"/api/tags/{tag_id}/relationships/{resource['type']}s", json=body)
        assert tagged.status_code == 204, tagged.text


def _served_includes(app: Any) -> list[tuple[str, str]]:
    served = []
    for method, path, op_id in served_operations(app):
        if method == "GET" and path.startswith("/api/") and op_id and _includes(op_id):
            served.append((path, op_id))
    return served


def _includes(op_id: str) -> tuple[str, ...]:
    try:
        return operation(op_id).includes
    except KeyError:  # an x-tidings operation: not Klaviyo's
        return ()


QUERY: dict[str, dict[str, str]] = {}


def _url(env: Env, path: str) -> str:
    if path in SETUPS:
        return str(SETUPS[path](env))
    for case in CASES:
        if case.method == "GET" and case.path == path:
            return path.format(**case.setup(env))
    for listing in LISTINGS:
        if listing.path == path:
            listing.setup(env)
            QUERY[path] = dict(listing.params)  # a filter the route requires
            return path
    raise AssertionError(f"no isolation case makes data for GET {path}")


def _primary(document: dict[str, Any]) -> list[dict[str, Any]]:
    data = document["data"]
    return data if isinstance(data, list) else [data] if data else []


def _linkage(rel: Any) -> list[tuple[str, str]]:
    data = rel.get("data") if isinstance(rel, dict) else None
    items = data if isinstance(data, list) else [data] if data else []
    return [(item["type"], item["id"]) for item in items]


def _check(document: dict[str, Any], names: list[str], to_one: tuple[str, ...]) -> list[str]:
    problems = []
    included = document.get("included")
    if not isinstance(included, list):
        return ["no top-level `included` list"]
    linked: set[tuple[str, str]] = set()
    for resource in _primary(document):
        relationships = resource.get("relationships") or {}
        for name in names:
            rel = relationships.get(name)
            if not isinstance(rel, dict) or "data" not in rel:
                problems.append(f"{resource['type']} {resource['id']}: relationship {name!r} has no `data`")
                continue
            shape_ok = (
                isinstance(rel["data"], dict | None) if name in to_one else isinstance(rel["data"], list)
            )
            if not shape_ok:
                problems.append(
                    f"{name!r}: `data` {rel['data']!r} is not a {'to-one' if name in to_one else 'list'}"
                )
            linked.update(_linkage(rel))
    shown = [(item["type"], item["id"]) for item in included]
    if len(shown) != len(set(shown)):
        problems.append("`included` holds a resource twice")
    if set(shown) != linked:
        problems.append(
            f"linkage and `included` differ: only linked {linked - set(shown)}, only included {set(shown) - linked}"
        )
    return problems


def _links(document: dict[str, Any]) -> set[str]:
    links = set()
    for resource in _primary(document)[:1]:
        for rel in (resource.get("relationships") or {}).values():
            links.update(v for v in (rel.get("links") or {}).values() if isinstance(v, str))
    return links


def test_every_include_of_every_served_operation(app, client, db) -> None:
    served = _served_includes(app)
    assert {"get_lists", "get_segment", "get_metric", "get_campaigns", "get_profile"} <= {
        o for _p, o in served
    }
    problems: list[str] = []
    seen_related: dict[tuple[str, str], bool] = {}
    for path, op_id in served:
        op = operation(op_id)
        env = Env(client, db, make_account(db, name="Sweep A"), make_account(db, name="Sweep B"))
        url = _url(env, path)
        drain(env.db)  # jobs run: bulk jobs complete, segments take their members
        if "tags" in op.includes:
            _tag_everything(env, url)
        query = QUERY.get(path, {})
        plain = env.as_a("GET", url, params=query)
        assert plain.status_code == 200, f"GET {url}: {plain.status_code} {plain.text[:300]}"
        assert "included" not in plain.json(), f"{op_id}: `included` without include"
        for link in _links(plain.json()):
            target = urlsplit(link).path
            answer = env.as_a("GET", target)
            if answer.status_code in (404, 405):
                problems.append(f"{op_id}: relationship link {target} answers {answer.status_code}")
        for names in [[name] for name in op.includes] + [list(op.includes)]:
            response = env.as_a("GET", url, params={**query, "include": ",".join(names)})
            if response.status_code != 200:
                problems.append(f"{op_id} include={names}: {response.status_code} {response.text[:200]}")
                continue
            document = response.json()
            problems += [
                f"{op_id} include={','.join(names)}: {p}" for p in _check(document, names, op.includes_to_one)
            ]
            for name in names:
                related = any(_linkage((r.get("relationships") or {}).get(name)) for r in _primary(document))
                seen_related[(op_id, name)] = seen_related.get((op_id, name), False) or related
    never = sorted(
        pair
        for pair, seen in seen_related.items()
        if not seen and pair[1] not in EMPTY_BY_DESIGN and pair not in EMPTY_PAIRS
    )
    problems += [f"{op_id} include={name}: no resource ever showed a related one" for op_id, name in never]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("include", ["tags", "flow-triggers", "tags,flow-triggers"])
def test_a_single_list_with_include_has_data_and_included(client, db, include: str) -> None:
    """The crash an export of lists met: `relationships.tags.data` and `included` missing."""
    a = make_account(db, name="Export")
    created = client.post(
        "/api/lists", json={"data": {"type": "list", "attributes": {"name": "N"}}}, headers=a.headers()
    )
    list_id = created.json()["data"]["id"]
    for url in (f"/api/lists/{list_id}", "/api/lists"):
        document = client.get(url, params={"include": include}, headers=a.headers()).json()
        resource = document["data"] if isinstance(document["data"], dict) else document["data"][0]
        for name in include.split(","):
            assert resource["relationships"][name]["data"] == []
            assert resource["relationships"][name]["links"]["self"].endswith(f"/relationships/{name}")
        assert document["included"] == []


def test_no_include_no_included(client, db) -> None:
    a = make_account(db, name="Plain")
    document = client.get("/api/lists", headers=a.headers()).json()
    assert "included" not in document
