"""Isolation cases for the tag routes: a key of account B never reads, changes or uses A's tags,
tag groups or taggings (B putting its own tags on A's resources: tests/tags/test_tags_api.py)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.isolation import EXEMPT, Case, Env, Listing

EXEMPT[("POST", "/api/tag-groups")] = (
    "creates a tag group in the caller's account; names nothing of another's"
)


def a_tag(env: Env) -> dict[str, str]:
    """A's tag, in a group of A's, on a list of A's."""
    name = f"A {uuid.uuid4().hex[:8]}"
    group = env.as_a(
        "POST", "/api/tag-groups", json={"data": {"type": "tag-group", "attributes": {"name": name}}}
    )
    assert group.status_code == 201, group.text
    group_id = group.json()["data"]["id"]
    body = {
        "data": {
            "type": "tag",
            "attributes": {"name": name},
            "relationships": {"tag-group": {"data": {"type": "tag-group", "id": group_id}}},
        }
    }
    tag = env.as_a("POST", "/api/tags", json=body)
    assert tag.status_code == 201, tag.text
    tag_id = tag.json()["data"]["id"]
    listed = env.as_a("POST", "/api/lists", json={"data": {"type": "list", "attributes": {"name": "A's"}}})
    list_id = listed.json()["data"]["id"]
    tagged = env.as_a(
        "POST", f"/api/tags/{tag_id}/relationships/lists", json={"data": [{"type": "list", "id": list_id}]}
    )
    assert tagged.status_code == 204, tagged.text
    return {"id": tag_id, "group": group_id, "list": list_id, "name": name}


def a_group(env: Env) -> dict[str, str]:
    params = a_tag(env)
    return {**params, "tag": params["id"], "id": params["group"]}


def tag_unchanged(env: Env, params: dict[str, str]) -> None:
    tag_id = params.get("tag", params["id"])
    response = env.as_a("GET", f"/api/tags/{tag_id}")
    assert response.status_code == 200 and response.json()["data"]["attributes"]["name"] == params["name"]
    lists = env.as_a("GET", f"/api/tags/{tag_id}/relationships/lists").json()["data"]
    assert [item["id"] for item in lists] == [params["list"]]


def group_unchanged(env: Env, params: dict[str, str]) -> None:
    response = env.as_a("GET", f"/api/tag-groups/{params['group']}")
    assert response.status_code == 200 and response.json()["data"]["attributes"]["name"] == params["name"]
    tag_unchanged(env, params)


def refs(type_: str) -> Any:
    return lambda p: {"data": [{"type": type_, "id": p["list"] if type_ == "list" else "x"}]}


def rename(type_: str) -> Any:
    return lambda p: {"data": {"type": type_, "id": p["id"], "attributes": {"name": "B's"}}}


CASES = [
    Case("GET", "/api/tags/{id}", a_tag),
    Case("PATCH", "/api/tags/{id}", a_tag, body=rename("tag"), unchanged=tag_unchanged),
    Case("DELETE", "/api/tags/{id}", a_tag, unchanged=tag_unchanged),
    Case("GET", "/api/tags/{id}/tag-group", a_tag),
    Case("GET", "/api/tags/{id}/relationships/tag-group", a_tag),
    Case(
        "POST",
        "/api/tags",
        a_group,
        body=lambda p: {
            "data": {
                "type": "tag",
                "attributes": {"name": "B's tag in A's group"},
                "relationships": {"tag-group": {"data": {"type": "tag-group", "id": p["group"]}}},
            }
        },
        unchanged=group_unchanged,
    ),
    Case("GET", "/api/tag-groups/{id}", a_group),
    Case("PATCH", "/api/tag-groups/{id}", a_group, body=rename("tag-group"), unchanged=group_unchanged),
    Case("DELETE", "/api/tag-groups/{id}", a_group, unchanged=group_unchanged),
    Case("GET", "/api/tag-groups/{id}/tags", a_group),
    Case("GET", "/api/tag-groups/{id}/relationships/tags", a_group),
]
for _plural, _type in (
    ("lists", "list"),
    ("segments", "segment"),
    ("campaigns", "campaign"),
    ("flows", "flow"),
):
    _path = f"/api/tags/{{id}}/relationships/{_plural}"
    CASES += [
        Case("GET", _path, a_tag),
        Case("POST", _path, a_tag, body=refs(_type), unchanged=tag_unchanged),
        Case("DELETE", _path, a_tag, body=refs(_type), unchanged=tag_unchanged),
    ]

LISTINGS = [
    Listing("/api/tags", lambda env: [a_tag(env)["id"]]),
    Listing("/api/tag-groups", lambda env: [a_group(env)["id"]]),
]
