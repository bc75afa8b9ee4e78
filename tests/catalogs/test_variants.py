"""Catalog variants through the official SDK."""

from __future__ import annotations

import pytest
from openapi_client.exceptions import ApiException, BadRequestException, NotFoundException

from tests.catalogs.factories import PREFIX, make_item, make_variant, variant_body


def test_create_get_update_delete(sdk, client, account) -> None:
    make_item(client, account, "SHIRT")
    body = variant_body("SHIRT-M", "SHIRT", inventory_policy=1, inventory_quantity=3, price=42.5)
    created = sdk.Catalogs.create_catalog_variant(body)
    assert created is not None
    assert created.data.id == PREFIX + "SHIRT-M"
    assert created.data.relationships.item.data.id == PREFIX + "SHIRT"
    fetched = sdk.Catalogs.get_catalog_variant(created.data.id).data.attributes
    assert (fetched.sku, fetched.inventory_policy, fetched.inventory_quantity, fetched.price) == (
        "SKU-SHIRT-M",
        1,
        3,
        42.5,
    )
    assert fetched.published is True
    updated = sdk.Catalogs.update_catalog_variant(
        created.data.id,
        {
            "data": {
                "type": "catalog-variant",
                "id": created.data.id,
                "attributes": {"inventory_quantity": 0, "inventory_policy": 2, "sku": "NEW"},
            }
        },
    )
    assert (updated.data.attributes.inventory_quantity, updated.data.attributes.sku) == (0, "NEW")
    assert updated.data.attributes.price == 42.5
    assert sdk.Catalogs.delete_catalog_variant(created.data.id) is None
    with pytest.raises(NotFoundException):
        sdk.Catalogs.get_catalog_variant(created.data.id)


def test_inventory_policy_defaults_to_0(client, account) -> None:
    make_item(client, account, "P")
    assert make_variant(client, account, "P-1", "P")["attributes"]["inventory_policy"] == 0


def test_listings_filters_and_relationship_ids(sdk, client, account) -> None:
    make_item(client, account, "A")
    make_item(client, account, "B")
    make_variant(client, account, "A-1", "A", title="Small blue")
    make_variant(client, account, "A-2", "A", title="Large red", published=False)
    make_variant(client, account, "B-1", "B", sku="SPECIAL")
    ids = lambda response: [v.id.removeprefix(PREFIX) for v in response.data]  # noqa: E731
    assert ids(sdk.Catalogs.get_catalog_variants()) == ["A-1", "A-2", "B-1"]
    assert ids(sdk.Catalogs.get_catalog_variants(filter=f'equals(item.id,"{PREFIX}A")')) == ["A-1", "A-2"]
    assert ids(sdk.Catalogs.get_catalog_variants(filter='equals(sku,"SPECIAL")')) == ["B-1"]
    assert ids(sdk.Catalogs.get_catalog_variants(filter='contains(title,"BLUE")')) == ["A-1"]
    assert ids(sdk.Catalogs.get_catalog_variants(filter="equals(published,false)")) == ["A-2"]
    assert ids(sdk.Catalogs.get_catalog_variants(filter=f"any(ids,['{PREFIX}B-1'])")) == ["B-1"]
    assert ids(sdk.Catalogs.get_variants_for_catalog_item(PREFIX + "A", sort="-created")) == ["A-2", "A-1"]
    relationship = sdk.Catalogs.get_variant_ids_for_catalog_item(PREFIX + "A")
    assert [(r.type, r.id) for r in relationship.data] == [
        ("catalog-variant", PREFIX + "A-1"),
        ("catalog-variant", PREFIX + "A-2"),
    ]
    with pytest.raises(NotFoundException):
        sdk.Catalogs.get_variants_for_catalog_item(PREFIX + "nope")


def test_variant_of_unknown_item_is_404_with_pointer(client, account) -> None:
    response = client.post(
        "/api/catalog-variants", json=variant_body("X-1", "missing"), headers=account.headers()
    )
    assert response.status_code == 404
    assert response.json()["errors"][0]["source"]["pointer"] == "/data/relationships/item/data/id"


@pytest.mark.parametrize(
    ("attrs", "pointer"),
    [
        ({"inventory_quantity": "5"}, "/data/attributes/inventory_quantity"),
        ({"inventory_quantity": None}, "/data/attributes/inventory_quantity"),
        ({"price": "cheap"}, "/data/attributes/price"),
        ({"inventory_policy": 3}, "/data/attributes/inventory_policy"),
        ({"published": 1}, "/data/attributes/published"),
    ],
)
def test_bad_variant_attribute_is_400(client, account, attrs: dict, pointer: str) -> None:
    make_item(client, account, "Q")
    body = variant_body("Q-1", "Q")
    body["data"]["attributes"].update(attrs)
    response = client.post("/api/catalog-variants", json=body, headers=account.headers())
    assert response.status_code == 400
    assert pointer in [e["source"].get("pointer") for e in response.json()["errors"]]


@pytest.mark.parametrize(
    "missing", ["external_id", "title", "description", "sku", "inventory_quantity", "price", "url"]
)
def test_missing_required_variant_field_is_400(client, account, missing: str) -> None:
    make_item(client, account, "R")
    body = variant_body("R-1", "R")
    del body["data"]["attributes"][missing]
    response = client.post("/api/catalog-variants", json=body, headers=account.headers())
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"]["pointer"] == f"/data/attributes/{missing}"


def test_missing_item_relationship_and_malformed_item_id_are_400(client, account) -> None:
    body = variant_body("S-1", "S")
    del body["data"]["relationships"]
    response = client.post("/api/catalog-variants", json=body, headers=account.headers())
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"]["pointer"] == "/data/relationships"
    body = variant_body("S-1", "S")
    body["data"]["relationships"]["item"]["data"]["id"] = "S"
    response = client.post("/api/catalog-variants", json=body, headers=account.headers())
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"]["pointer"] == "/data/relationships/item/data/id"


def test_duplicate_variant_is_409_and_bad_update_is_400(sdk, client, account) -> None:
    make_item(client, account, "T")
    make_variant(client, account, "T-1", "T")
    with pytest.raises(ApiException) as info:
        sdk.Catalogs.create_catalog_variant(variant_body("T-1", "T"))
    assert info.value.status == 409
    with pytest.raises(BadRequestException) as bad:
        sdk.Catalogs.get_catalog_variant("T-1")
    assert bad.value.data.errors[0].source.parameter == "id"
    response = client.patch(
        f"/api/catalog-variants/{PREFIX}T-1",
        json={
            "data": {
                "type": "catalog-variant",
                "id": PREFIX + "T-1",
                "attributes": {"inventory_quantity": "x"},
            }
        },
        headers=account.headers(),
    )
    assert response.status_code == 400
