"""Isolation cases for the web feed routes: a key of account B never reads, renames or deletes A's feeds."""

from __future__ import annotations

from tests.isolation import Case, Env, Listing
from tidings.db.ids import ulid


def a_feed(env: Env) -> dict[str, str]:
    attributes = {
        "name": f"A's {ulid()}",
        "url": "http://127.0.0.1:9/feed.json",
        "request_method": "get",
        "content_type": "json",
    }
    response = env.as_a(
        "POST", "/api/web-feeds", json={"data": {"type": "web-feed", "attributes": attributes}}
    )
    assert response.status_code == 201, response.text
    return {"id": response.json()["data"]["id"]}


def unchanged(env: Env, params: dict[str, str]) -> None:
    response = env.as_a("GET", f"/api/web-feeds/{params['id']}")
    assert response.status_code == 200 and response.json()["data"]["attributes"]["name"].startswith("A's")


CASES = [
    Case("GET", "/api/web-feeds/{id}", a_feed),
    Case(
        "PATCH",
        "/api/web-feeds/{id}",
        a_feed,
        body=lambda p: {"data": {"type": "web-feed", "id": p["id"], "attributes": {"name": "B's"}}},
        unchanged=unchanged,
    ),
    Case("DELETE", "/api/web-feeds/{id}", a_feed, unchanged=unchanged),
]

LISTINGS = [Listing("/api/web-feeds", lambda env: [a_feed(env)["id"]])]

EXEMPT = {("POST", "/api/web-feeds"): "creates a web feed in the caller's own account"}
