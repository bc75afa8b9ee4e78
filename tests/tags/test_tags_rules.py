"""Klaviyo's rules for tags, as a user meets them over HTTP: unique names, the default group,
exclusive groups, the limits, what deletions take with them, and another account's resources."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import AccountKeys, make_account
from tidings.tags import service


class Tags:
    def __init__(self, client: Any, keys: AccountKeys) -> None:
        self.client = client
        self.keys = keys

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        return self.client.request(method, url, headers=self.keys.headers(), **kwargs)

    def tag(self, name: str, group: str | None = None) -> Any:
        data: dict[str, Any] = {"type": "tag", "attributes": {"name": name}}
        if group:
            data["relationships"] = {"tag-group": {"data": {"type": "tag-group", "id": group}}}
        return self.request("POST", "/api/tags", json={"data": data})

    def group(self, name: str, exclusive: bool = False) -> Any:
        body = {"data": {"type": "tag-group", "attributes": {"name": name, "exclusive": exclusive}}}
        return self.request("POST", "/api/tag-groups", json=body)

    def new_list(self, name: str = "L") -> str:
        response = self.request(
            "POST", "/api/lists", json={"data": {"type": "list", "attributes": {"name": name}}}
        )
        return str(response.json()["data"]["id"])

    def tag_lists(self, tag_id: str, *list_ids: str, method: str = "POST") -> Any:
        body = {"data": [{"type": "list", "id": i} for i in list_ids]}
        return self.request(method, f"/api/tags/{tag_id}/relationships/lists", json=body)

    def list_tags(self, list_id: str) -> list[str]:
        return [
            t["id"] for t in self.request("GET", f"/api/lists/{list_id}/relationships/tags").json()["data"]
        ]


@pytest.fixture
def shop(client, account) -> Tags:
    return Tags(client, account)


@pytest.fixture
def other(client, other_account) -> Tags:
    return Tags(client, other_account)


def _error(response: Any) -> dict[str, Any]:
    return response.json()["errors"][0]


def test_duplicate_names_are_a_409_at_the_name(shop: Tags) -> None:
    first = shop.tag("Sale")
    assert first.status_code == 201
    again = shop.tag("Sale")
    assert again.status_code == 409
    assert _error(again)["code"] == "conflict"
    assert _error(again)["source"] == {"pointer": "/data/attributes/name"}
    assert first.json()["data"]["id"] in _error(again)["detail"]
    second = shop.tag("Clearance").json()["data"]["id"]
    renamed = shop.request(
        "PATCH",
        f"/api/tags/{second}",
        json={"data": {"type": "tag", "id": second, "attributes": {"name": "Sale"}}},
    )
    assert renamed.status_code == 409 and _error(renamed)["source"]["pointer"] == "/data/attributes/name"

    assert shop.group("Season").status_code == 201
    duplicate = shop.group("Season")
    assert duplicate.status_code == 409 and _error(duplicate)["source"]["pointer"] == "/data/attributes/name"
    assert shop.group("Default Tag Group").status_code == 409


def test_bad_bodies_are_400s_with_pointers(shop: Tags) -> None:
    blank = shop.tag("   ")
    assert blank.status_code == 400 and _error(blank)["source"]["pointer"] == "/data/attributes/name"
    wrong_type = shop.request(
        "POST", "/api/tags", json={"data": {"type": "tag-group", "attributes": {"name": "x"}}}
    )
    assert wrong_type.status_code == 400 and _error(wrong_type)["source"]["pointer"] == "/data/type"
    tag_id = shop.tag("T").json()["data"]["id"]
    mismatch = shop.request(
        "PATCH",
        f"/api/tags/{tag_id}",
        json={"data": {"type": "tag", "id": "other", "attributes": {"name": "U"}}},
    )
    assert mismatch.status_code == 409 and _error(mismatch)["source"]["pointer"] == "/data/id"
    refs = shop.request(
        "POST", f"/api/tags/{tag_id}/relationships/lists", json={"data": [{"type": "segment", "id": "x"}]}
    )
    assert refs.status_code == 400 and _error(refs)["source"]["pointer"] == "/data/0/type"
    unknown_group = shop.tag("In nowhere", group="no-such-group")
    assert unknown_group.status_code == 404
    assert _error(unknown_group)["source"]["pointer"] == "/data/relationships/tag-group/data/id"


def test_the_default_group_takes_ungrouped_tags_and_cannot_be_deleted(shop: Tags) -> None:
    [default] = shop.request("GET", "/api/tag-groups").json()["data"]
    tag_id = shop.tag("Loose").json()["data"]["id"]
    assert (
        shop.request("GET", f"/api/tags/{tag_id}/relationships/tag-group").json()["data"]["id"]
        == default["id"]
    )
    refused = shop.request("DELETE", f"/api/tag-groups/{default['id']}")
    assert refused.status_code == 400 and "default tag group cannot be deleted" in _error(refused)["detail"]
    assert shop.request("GET", f"/api/tags/{tag_id}").status_code == 200


def test_an_exclusive_group_allows_one_of_its_tags_per_resource(shop: Tags) -> None:
    group = shop.group("Stage", exclusive=True).json()["data"]["id"]
    lead = shop.tag("Lead", group).json()["data"]["id"]
    customer = shop.tag("Customer", group).json()["data"]["id"]
    free = shop.tag("Anything").json()["data"]["id"]
    first, second = shop.new_list("one"), shop.new_list("two")
    assert shop.tag_lists(lead, first).status_code == 204
    clash = shop.tag_lists(customer, second, first)
    assert clash.status_code == 409
    errors = clash.json()["errors"]
    assert [e["source"]["pointer"] for e in errors] == ["/data/1/id"]
    assert "exclusive" in errors[0]["detail"] and "Lead" in errors[0]["detail"]
    assert shop.list_tags(second) == []  # nothing of a refused request is applied
    assert shop.tag_lists(free, first).status_code == 204  # other groups are not exclusive
    assert shop.tag_lists(lead, first).status_code == 204  # the same tag again: nothing changes
    assert shop.tag_lists(lead, first, method="DELETE").status_code == 204
    assert shop.tag_lists(customer, first).status_code == 204
    assert sorted(shop.list_tags(first)) == sorted([customer, free])


def test_limits(shop: Tags, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "MAX_TAGS_PER_RESOURCE", 2)
    monkeypatch.setattr(service, "MAX_TAGS", 3)
    monkeypatch.setattr(service, "MAX_GROUPS", 2)  # the default group counts
    tags = [shop.tag(f"T{i}").json()["data"]["id"] for i in range(3)]
    over = shop.tag("T3")
    assert over.status_code == 400 and "more than 3 tags" in _error(over)["detail"]
    list_id = shop.new_list()
    assert shop.tag_lists(tags[0], list_id).status_code == 204
    assert shop.tag_lists(tags[1], list_id).status_code == 204
    full = shop.tag_lists(tags[2], list_id)
    assert full.status_code == 400 and _error(full)["source"]["pointer"] == "/data/0/id"
    assert shop.group("G1").status_code == 201
    too_many = shop.group("G2")
    assert too_many.status_code == 400 and "more than 2 tag groups" in _error(too_many)["detail"]


def test_deletions_take_their_taggings_with_them(shop: Tags, client, account) -> None:
    tag_id = shop.tag("Gone soon").json()["data"]["id"]
    kept, dropped = shop.new_list("kept"), shop.new_list("dropped")
    assert shop.tag_lists(tag_id, kept, dropped).status_code == 204
    assert shop.request("DELETE", f"/api/lists/{dropped}").status_code == 204
    ids = [x["id"] for x in shop.request("GET", f"/api/tags/{tag_id}/relationships/lists").json()["data"]]
    assert ids == [kept]

    assert shop.request("DELETE", f"/api/tags/{tag_id}").status_code == 204
    assert shop.list_tags(kept) == []
    listed = shop.request("GET", "/api/lists", params={"include": "tags"}).json()
    assert listed["included"] == [] and all(r["relationships"]["tags"]["data"] == [] for r in listed["data"])

    group = shop.group("Temporary").json()["data"]["id"]
    grouped = shop.tag("In the group", group).json()["data"]["id"]
    assert shop.tag_lists(grouped, kept).status_code == 204
    assert shop.request("DELETE", f"/api/tag-groups/{group}").status_code == 204
    assert shop.request("GET", f"/api/tags/{grouped}").status_code == 404
    assert shop.list_tags(kept) == []


def test_a_key_never_tags_another_accounts_resources(shop: Tags, other: Tags) -> None:
    theirs = other.new_list("B's list")
    mine = shop.tag("Mine").json()["data"]["id"]
    refused = shop.tag_lists(mine, theirs)
    assert refused.status_code == 404
    assert _error(refused)["source"]["pointer"] == "/data/0/id"
    assert other.list_tags(theirs) == []
    assert shop.tag_lists(mine, theirs, method="DELETE").status_code == 404
    body = {"data": [{"type": "segment", "id": "nope"}]}
    assert shop.request("POST", f"/api/tags/{mine}/relationships/segments", json=body).status_code == 404
    # Names are per account: B may use A's.
    assert other.tag("Mine").status_code == 201


def test_a_new_account_gets_its_default_group(client, db) -> None:
    fresh = Tags(client, make_account(db, name="Fresh"))
    groups = fresh.request("GET", "/api/tag-groups").json()["data"]
    assert [(g["attributes"]["name"], g["attributes"]["default"]) for g in groups] == [
        ("Default Tag Group", True)
    ]
