"""Isolation cases for every catalog route: B's key never reads or changes A's catalog."""

from __future__ import annotations

from typing import Any

from tests.catalogs.factories import PREFIX, category_body, item_body, variant_body
from tests.isolation import Case, Env, Listing
from tidings.catalogs.bulk import KINDS


def _a(env: Env, path: str, body: dict[str, Any]) -> None:
    response = env.as_a("POST", path, json=body)
    assert response.status_code in (201, 202, 204), response.text


def catalog(env: Env) -> dict[str, str]:
    """A's item with a variant, in a category."""
    _a(env, "/api/catalog-items", item_body("ITEM"))
    _a(env, "/api/catalog-variants", variant_body("VAR", "ITEM"))
    _a(env, "/api/catalog-categories", {**category_body("CAT", items=["ITEM"])})
    return {
        "id": PREFIX + "ITEM",
        "item": PREFIX + "ITEM",
        "variant": PREFIX + "VAR",
        "category": PREFIX + "CAT",
    }


def item_params(env: Env) -> dict[str, str]:
    return {**catalog(env), "id": PREFIX + "ITEM"}


def variant_params(env: Env) -> dict[str, str]:
    return {**catalog(env), "id": PREFIX + "VAR"}


def category_params(env: Env) -> dict[str, str]:
    return {**catalog(env), "id": PREFIX + "CAT"}


def unchanged(path: str, key: str, value: Any) -> Any:
    def check(env: Env, params: dict[str, str]) -> None:
        response = env.as_a("GET", path.format(**params))
        assert response.status_code == 200, response.text
        assert response.json()["data"]["attributes"][key] == value

    return check


def still_linked(env: Env, params: dict[str, str]) -> None:
    response = env.as_a("GET", f"/api/catalog-categories/{PREFIX}CAT/relationships/items")
    assert [entry["id"] for entry in response.json()["data"]] == [PREFIX + "ITEM"]


ITEM = "/api/catalog-items/{id}"
VARIANT = "/api/catalog-variants/{id}"
CATEGORY = "/api/catalog-categories/{id}"
item_refs = {"data": [{"type": "catalog-item", "id": PREFIX + "ITEM"}]}
category_refs = {"data": [{"type": "catalog-category", "id": PREFIX + "CAT"}]}


def _job(env: Env, kind: Any) -> dict[str, str]:
    catalog(env)
    entry: dict[str, Any]
    if kind.verb == "delete":
        entry = {"type": kind.resource, "id": PREFIX + "NONE"}
    elif kind.resource == "catalog-item":
        entry = item_body("BULK")["data"]
    elif kind.resource == "catalog-variant":
        entry = variant_body("BULK", "ITEM")["data"]
    else:
        entry = category_body("BULK")["data"]
    if kind.verb == "update":
        entry = {"type": kind.resource, "id": PREFIX + "BULK", "attributes": {}}
    body = {"data": {"type": kind.job_type, "attributes": {kind.key: {"data": [entry]}}}}
    response = env.as_a("POST", f"/api/{kind.collection}", json=body)
    assert response.status_code == 202, response.text
    return {"job_id": response.json()["data"]["id"]}


def _job_ids(env: Env, kind: Any) -> list[str]:
    return [_job(env, kind)["job_id"]]


CASES = [
    Case("GET", ITEM, item_params),
    Case("PATCH", ITEM, item_params,
         body=lambda p: {"data": {"type": "catalog-item", "id": p["id"], "attributes": {"title": "B"}}},
         unchanged=unchanged(ITEM, "title", "Item ITEM")),
    Case("DELETE", ITEM, item_params, unchanged=unchanged(ITEM, "title", "Item ITEM")),
    Case("GET", ITEM + "/variants", item_params),
    Case("GET", ITEM + "/relationships/variants", item_params),
    Case("GET", ITEM + "/categories", item_params),
    Case("GET", ITEM + "/relationships/categories", item_params),
    Case("POST", ITEM + "/relationships/categories", item_params, body=lambda p: category_refs),
    Case("PATCH", ITEM + "/relationships/categories", item_params, body=lambda p: {"data": []},
         unchanged=still_linked),
    Case("DELETE", ITEM + "/relationships/categories", item_params, body=lambda p: category_refs,
         unchanged=still_linked),
    Case("POST", "/api/catalog-items", catalog,
         body=lambda p: {"data": {**item_body("B")["data"], "relationships": {"categories": category_refs}}}),
    Case("GET", VARIANT, variant_params),
    Case("PATCH", VARIANT, variant_params,
         body=lambda p: {"data": {"type": "catalog-variant", "id": p["id"], "attributes": {"price": 0}}},
         unchanged=unchanged(VARIANT, "price", 10.5)),
    Case("DELETE", VARIANT, variant_params, unchanged=unchanged(VARIANT, "price", 10.5)),
    Case("POST", "/api/catalog-variants", catalog, body=lambda p: variant_body("B-VAR", "ITEM")),
    Case("GET", CATEGORY, category_params),
    Case("PATCH", CATEGORY, category_params,
         body=lambda p: {"data": {"type": "catalog-category", "id": p["id"], "attributes": {"name": "B"}}},
         unchanged=unchanged(CATEGORY, "name", "Category CAT")),
    Case("DELETE", CATEGORY, category_params, unchanged=unchanged(CATEGORY, "name", "Category CAT")),
    Case("GET", CATEGORY + "/items", category_params),
    Case("GET", CATEGORY + "/relationships/items", category_params),
    Case("POST", CATEGORY + "/relationships/items", category_params, body=lambda p: item_refs),
    Case("PATCH", CATEGORY + "/relationships/items", category_params, body=lambda p: {"data": []},
         unchanged=still_linked),
    Case("DELETE", CATEGORY + "/relationships/items", category_params, body=lambda p: item_refs,
         unchanged=still_linked),
    Case("POST", "/api/catalog-categories", catalog,
         body=lambda p: category_body("B-CAT", items=["ITEM"])),
    Case("POST", "/api/back-in-stock-subscriptions", catalog,
         body=lambda p: {
             "data": {
                 "type": "back-in-stock-subscription",
                 "attributes": {
                     "channels": ["EMAIL"],
                     "profile": {"data": {"type": "profile", "attributes": {"email": "b@example.com"}}},
                 },
                 "relationships": {"variant": {"data": {"type": "catalog-variant", "id": p["variant"]}}},
             }
         }),
]  # fmt: skip

for _kind in KINDS:
    CASES.append(
        Case("GET", f"/api/{_kind.collection}/{{job_id}}", lambda env, kind=_kind: _job(env, kind))  # type: ignore[misc]
    )

LISTINGS = [
    Listing("/api/catalog-items", lambda env: [catalog(env)["item"]]),
    Listing("/api/catalog-variants", lambda env: [catalog(env)["variant"]]),
    Listing("/api/catalog-categories", lambda env: [catalog(env)["category"]]),
    *[Listing(f"/api/{k.collection}", lambda env, kind=k: _job_ids(env, kind)) for k in KINDS],  # type: ignore[misc]
]

EXEMPT = {
    ("POST", f"/api/{kind.collection}"): (
        "A bulk job names no resource in its path; B's job that names A's ids fails entry by entry "
        "with not_found (tests/catalogs/test_bulk.py)."
    )
    for kind in KINDS
}
