"""Catalog categories and the item <-> category relationship, through the official SDK."""

from __future__ import annotations

import pytest
from openapi_client.exceptions import ApiException, NotFoundException

from tests.catalogs.factories import PREFIX, category_body, make_category, make_item


def _ids(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [entry.id.removeprefix(PREFIX) for entry in response.data]


def test_category_crud(sdk, client, account) -> None:
    make_item(client, account, "I1")
    created = sdk.Catalogs.create_catalog_category(category_body("shoes", "Shoes", items=["I1"]))
    assert created is not None and created.data.id == PREFIX + "shoes"
    assert created.data.attributes.name == "Shoes" and created.data.attributes.external_id == "shoes"
    fetched = sdk.Catalogs.get_catalog_category(PREFIX + "shoes")
    assert fetched.data.attributes.updated is not None
    assert _ids(sdk.Catalogs.get_items_for_catalog_category(PREFIX + "shoes")) == ["I1"]
    updated = sdk.Catalogs.update_catalog_category(
        PREFIX + "shoes",
        {"data": {"type": "catalog-category", "id": PREFIX + "shoes", "attributes": {"name": "Boots"}}},
    )
    assert updated.data.attributes.name == "Boots"
    assert sdk.Catalogs.delete_catalog_category(PREFIX + "shoes") is None
    with pytest.raises(NotFoundException):
        sdk.Catalogs.get_catalog_category(PREFIX + "shoes")
    assert sdk.Catalogs.get_catalog_item(PREFIX + "I1").data.id == PREFIX + "I1"  # items stay


def test_listing_filters(sdk, client, account) -> None:
    make_item(client, account, "I1")
    make_category(client, account, "c1", items=["I1"])
    make_category(client, account, "c2")
    client.post("/api/catalog-categories", json=category_body("c3", "Summer Sale"), headers=account.headers())
    assert _ids(sdk.Catalogs.get_catalog_categories()) == ["c1", "c2", "c3"]
    assert _ids(sdk.Catalogs.get_catalog_categories(sort="-created")) == ["c3", "c2", "c1"]
    assert _ids(sdk.Catalogs.get_catalog_categories(filter='contains(name,"summer")')) == ["c3"]
    assert _ids(sdk.Catalogs.get_catalog_categories(filter=f'equals(item.id,"{PREFIX}I1")')) == ["c1"]
    assert _ids(sdk.Catalogs.get_catalog_categories(filter=f"any(ids,['{PREFIX}c2'])")) == ["c2"]


def test_relationships_from_the_category_side(sdk, client, account) -> None:
    for name in ("a", "b", "c"):
        make_item(client, account, name)
    make_category(client, account, "cat")
    cat = PREFIX + "cat"
    refs = lambda *names: {"data": [{"type": "catalog-item", "id": PREFIX + n} for n in names]}  # noqa: E731
    assert sdk.Catalogs.add_items_to_catalog_category(cat, refs("a", "b")) is None
    assert _ids(sdk.Catalogs.get_item_ids_for_catalog_category(cat)) == ["a", "b"]
    sdk.Catalogs.update_items_for_catalog_category(cat, refs("b", "c"))
    assert _ids(sdk.Catalogs.get_items_for_catalog_category(cat)) == ["b", "c"]
    sdk.Catalogs.remove_items_from_catalog_category(cat, refs("b"))
    assert _ids(sdk.Catalogs.get_item_ids_for_catalog_category(cat)) == ["c"]
    assert _ids(sdk.Catalogs.get_items_for_catalog_category(cat, include=["variants"])) == ["c"]


def test_relationships_from_the_item_side(sdk, client, account) -> None:
    make_item(client, account, "it")
    for name in ("x", "y", "z"):
        make_category(client, account, name)
    item = PREFIX + "it"
    refs = lambda *names: {"data": [{"type": "catalog-category", "id": PREFIX + n} for n in names]}  # noqa: E731
    assert sdk.Catalogs.add_categories_to_catalog_item(item, refs("x", "y")) is None
    assert _ids(sdk.Catalogs.get_category_ids_for_catalog_item(item)) == ["x", "y"]
    sdk.Catalogs.update_categories_for_catalog_item(item, refs("z"))
    assert _ids(sdk.Catalogs.get_categories_for_catalog_item(item)) == ["z"]
    sdk.Catalogs.remove_categories_from_catalog_item(item, refs("z"))
    assert _ids(sdk.Catalogs.get_categories_for_catalog_item(item)) == []


def test_item_update_with_categories_replaces_them(sdk, client, account) -> None:
    make_item(client, account, "it")
    make_category(client, account, "old", items=["it"])
    make_category(client, account, "new")
    sdk.Catalogs.update_catalog_item(
        PREFIX + "it",
        {
            "data": {
                "type": "catalog-item",
                "id": PREFIX + "it",
                "attributes": {},
                "relationships": {
                    "categories": {"data": [{"type": "catalog-category", "id": PREFIX + "new"}]}
                },
            }
        },
    )
    assert _ids(sdk.Catalogs.get_categories_for_catalog_item(PREFIX + "it")) == ["new"]


def test_unknown_members_are_404_with_the_entry_pointer(client, account) -> None:
    make_item(client, account, "known")
    make_category(client, account, "cat")
    body = {
        "data": [
            {"type": "catalog-item", "id": PREFIX + "known"},
            {"type": "catalog-item", "id": PREFIX + "ghost"},
            {"type": "catalog-item", "id": "bad"},
        ]
    }
    response = client.post(
        f"/api/catalog-categories/{PREFIX}cat/relationships/items", json=body, headers=account.headers()
    )
    assert response.status_code == 404
    pointers = sorted(e["source"]["pointer"] for e in response.json()["errors"])
    assert pointers == ["/data/1/id", "/data/2/id"]
    listing = client.get(
        f"/api/catalog-categories/{PREFIX}cat/relationships/items", headers=account.headers()
    )
    assert listing.json()["data"] == []  # nothing was applied


def test_duplicate_category_is_409(sdk, client, account) -> None:
    make_category(client, account, "dup")
    with pytest.raises(ApiException) as info:
        sdk.Catalogs.create_catalog_category(category_body("dup"))
    assert info.value.status == 409
