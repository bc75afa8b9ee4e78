"""Isolation cases for the list routes: a key of account B never reads or changes A's lists."""

from __future__ import annotations

import uuid

from tests.isolation import Case, Env, Listing


def a_list(env: Env) -> dict[str, str]:
    email = f"iso-{uuid.uuid4().hex[:8]}@example.com"
    body = {"data": {"type": "profile", "attributes": {"email": email}}}
    profile = env.as_a("POST", "/api/profiles", json=body).json()["data"]["id"]
    response = env.as_a(
        "POST", "/api/lists", json={"data": {"type": "list", "attributes": {"name": "A's list"}}}
    )
    assert response.status_code == 201, response.text
    list_id = response.json()["data"]["id"]
    added = env.as_a(
        "POST",
        f"/api/lists/{list_id}/relationships/profiles",
        json={"data": [{"type": "profile", "id": profile}]},
    )
    assert added.status_code == 204, added.text
    return {"id": list_id, "profile": profile}


def unchanged(env: Env, params: dict[str, str]) -> None:
    response = env.as_a("GET", f"/api/lists/{params['id']}")
    assert response.status_code == 200 and response.json()["data"]["attributes"]["name"] == "A's list"
    members = env.as_a("GET", f"/api/lists/{params['id']}/relationships/profiles").json()["data"]
    assert [m["id"] for m in members] == [params["profile"]]


def members_body(params: dict[str, str]) -> dict[str, object]:
    return {"data": [{"type": "profile", "id": params["profile"]}]}


CASES = [
    Case("GET", "/api/lists/{id}", a_list),
    Case(
        "PATCH",
        "/api/lists/{id}",
        a_list,
        body=lambda p: {"data": {"type": "list", "id": p["id"], "attributes": {"name": "B"}}},
        unchanged=unchanged,
    ),
    Case("DELETE", "/api/lists/{id}", a_list, unchanged=unchanged),
    Case("GET", "/api/lists/{id}/profiles", a_list),
    Case("GET", "/api/lists/{id}/relationships/profiles", a_list),
    Case("POST", "/api/lists/{id}/relationships/profiles", a_list, body=members_body, unchanged=unchanged),
    Case("DELETE", "/api/lists/{id}/relationships/profiles", a_list, body=members_body, unchanged=unchanged),
    Case("GET", "/api/lists/{id}/tags", a_list),
    Case("GET", "/api/lists/{id}/relationships/tags", a_list),
    Case("GET", "/api/lists/{id}/flow-triggers", a_list),
    Case("GET", "/api/lists/{id}/relationships/flow-triggers", a_list),
]

LISTINGS = [
    Listing("/api/lists", lambda env: [a_list(env)["id"]]),
]

EXEMPT = {
    ("POST", "/api/lists"): "creates a list in the caller's own account",
}
