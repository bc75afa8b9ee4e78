"""Catalog items through the official SDK: CRUD, listings, include=variants, bad input."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from openapi_client.exceptions import ApiException, BadRequestException, NotFoundException

from tests.catalogs.factories import PREFIX, item_body, make_category, make_item, make_variant
from tests.conftest import AccountKeys

ATTRS = {
    "external_id": "SKU-1 blue ä",
    "integration_type": "$custom",
    "catalog_type": "$default",
    "title": "Acceptance Widget",
    "description": "A widget.",
    "url": "https://shop.example.com/p/1",
    "price": 19.99,
    "image_full_url": "https://shop.example.com/img/widget.png",
    "image_thumbnail_url": "https://shop.example.com/img/widget-small.png",
    "images": ["https://shop.example.com/img/widget.png"],
    "custom_metadata": {"color": "blue", "sizes": ["S", "M"], "Top Pick": True},
    "published": False,
}
KEYS = (
    "external_id", "title", "description", "url", "price", "image_full_url", "image_thumbnail_url",
    "images", "custom_metadata", "published",
)  # fmt: skip


def test_create_then_get_by_percent_encoded_compound_id(sdk) -> None:
    attrs = {**ATTRS, "external_id": "SKU 1+ä:x"}
    created = sdk.Catalogs.create_catalog_item({"data": {"type": "catalog-item", "attributes": attrs}})
    assert created is not None, "create_catalog_item must answer 201"
    assert created.data.id == PREFIX + "SKU 1+ä:x"
    fetched = sdk.Catalogs.get_catalog_item(created.data.id)
    assert fetched.data.id == created.data.id
    for source in (created.data, fetched.data):
        for key in KEYS:
            assert getattr(source.attributes, key) == attrs[key], key
        assert source.attributes.created is not None and source.attributes.updated is not None
        assert source.links.var_self.endswith(
            "/api/catalog-items/%24custom%3A%3A%3A%24default%3A%3A%3ASKU%201%2B%C3%A4%3Ax"
        )


def test_defaults_published_true_and_optional_fields_empty(sdk) -> None:
    created = sdk.Catalogs.create_catalog_item(item_body("plain"))
    attrs = created.data.attributes
    assert attrs.published is True
    assert attrs.images is None and attrs.custom_metadata is None and attrs.image_full_url is None


def test_update_changes_sent_fields_keeps_others_and_clears_nulls(sdk) -> None:
    created = sdk.Catalogs.create_catalog_item({"data": {"type": "catalog-item", "attributes": ATTRS}})
    item_id = created.data.id
    updated = sdk.Catalogs.update_catalog_item(
        item_id,
        {
            "data": {
                "type": "catalog-item",
                "id": item_id,
                "attributes": {
                    "title": "Renamed",
                    "price": 25,
                    "image_thumbnail_url": None,
                    "published": True,
                },
            }
        },
    )
    attrs = updated.data.attributes
    assert (attrs.title, attrs.price, attrs.published) == ("Renamed", 25, True)
    assert attrs.image_thumbnail_url is None
    assert attrs.description == ATTRS["description"] and attrs.custom_metadata == ATTRS["custom_metadata"]
    assert sdk.Catalogs.get_catalog_item(item_id).data.attributes.title == "Renamed"


def test_item_price_change_leaves_variants_alone_and_vice_versa(sdk, client, account) -> None:
    make_item(client, account, "P1", price=10)
    make_variant(client, account, "P1-S", "P1", price=12)
    sdk.Catalogs.update_catalog_item(
        PREFIX + "P1", {"data": {"type": "catalog-item", "id": PREFIX + "P1", "attributes": {"price": 8}}}
    )
    assert sdk.Catalogs.get_catalog_variant(PREFIX + "P1-S").data.attributes.price == 12
    sdk.Catalogs.update_catalog_variant(
        PREFIX + "P1-S",
        {"data": {"type": "catalog-variant", "id": PREFIX + "P1-S", "attributes": {"price": 9}}},
    )
    assert sdk.Catalogs.get_catalog_item(PREFIX + "P1").data.attributes.price == 8


def test_delete_removes_the_item_and_its_variants(sdk, client, account) -> None:
    make_item(client, account, "D1")
    make_variant(client, account, "D1-V", "D1")
    assert sdk.Catalogs.delete_catalog_item(PREFIX + "D1") is None
    with pytest.raises(NotFoundException):
        sdk.Catalogs.get_catalog_item(PREFIX + "D1")
    with pytest.raises(NotFoundException):
        sdk.Catalogs.get_catalog_variant(PREFIX + "D1-V")
    with pytest.raises(NotFoundException):
        sdk.Catalogs.delete_catalog_item(PREFIX + "D1")


def test_include_variants_on_one_item_and_on_listings(sdk, client, account) -> None:
    make_item(client, account, "I1")
    make_item(client, account, "I2")
    make_variant(client, account, "I1-a", "I1")
    make_variant(client, account, "I1-b", "I1")
    one = sdk.Catalogs.get_catalog_item(PREFIX + "I1", include=["variants"])
    assert [v.id for v in one.included] == [PREFIX + "I1-a", PREFIX + "I1-b"]
    assert [r.id for r in one.data.relationships.variants.data] == [PREFIX + "I1-a", PREFIX + "I1-b"]
    listing = sdk.Catalogs.get_catalog_items(include=["variants"])
    assert {i.id: len(i.relationships.variants.data) for i in listing.data} == {
        PREFIX + "I1": 2,
        PREFIX + "I2": 0,
    }
    assert len(listing.included) == 2
    plain = sdk.Catalogs.get_catalog_item(PREFIX + "I1")
    assert plain.included is None and plain.data.relationships.variants.data is None


def test_list_filters_sort_and_pages(sdk, client, account) -> None:
    for n in range(5):
        make_item(
            client, account, f"L{n}", title=f"Blue Shirt {n}" if n % 2 else f"Red Hat {n}", published=n != 4
        )
    make_category(client, account, "hats", items=["L0", "L2"])
    ids = lambda response: [i.id.removeprefix(PREFIX) for i in response.data]  # noqa: E731
    assert ids(sdk.Catalogs.get_catalog_items(filter='contains(title,"blue")')) == ["L1", "L3"]
    assert ids(sdk.Catalogs.get_catalog_items(filter="equals(published,false)")) == ["L4"]
    assert ids(sdk.Catalogs.get_catalog_items(filter=f'equals(category.id,"{PREFIX}hats")')) == ["L0", "L2"]
    wanted = f"any(ids,['{PREFIX}L1','{PREFIX}L4'])"
    assert ids(sdk.Catalogs.get_catalog_items(filter=wanted)) == ["L1", "L4"]
    assert ids(sdk.Catalogs.get_catalog_items(sort="-created")) == ["L4", "L3", "L2", "L1", "L0"]
    first = sdk.Catalogs.get_catalog_items(page_size=2)
    assert ids(first) == ["L0", "L1"] and first.links.next
    second = sdk.Catalogs.get_catalog_items(page_cursor=first.links.next)
    assert ids(second) == ["L2", "L3"]


def test_the_other_accounts_items_are_invisible(
    client, account: AccountKeys, other_account: AccountKeys
) -> None:
    make_item(client, account, "MINE")
    response = client.get(f"/api/catalog-items/{PREFIX}MINE", headers=other_account.headers())
    assert response.status_code == 404
    assert client.get("/api/catalog-items", headers=other_account.headers()).json()["data"] == []


# ------------------------------------------------------------------------------ bad input


def _post(client: TestClient, account: AccountKeys, body: object) -> tuple[int, list[dict]]:
    response = client.post("/api/catalog-items", json=body, headers=account.headers())
    return response.status_code, response.json().get("errors", [])


@pytest.mark.parametrize("missing", ["external_id", "title", "description", "url"])
def test_missing_required_field_is_400_with_pointer(client, account, missing: str) -> None:
    body = item_body("M1")
    del body["data"]["attributes"][missing]
    status, errors = _post(client, account, body)
    assert status == 400
    assert errors[0]["source"]["pointer"] == f"/data/attributes/{missing}"


@pytest.mark.parametrize(
    ("attrs", "pointer"),
    [
        ({"price": "12"}, "/data/attributes/price"),
        ({"published": "true"}, "/data/attributes/published"),
        ({"images": "https://x"}, "/data/attributes/images"),
        ({"integration_type": "$shopify"}, "/data/attributes/integration_type"),
        ({"catalog_type": "other"}, "/data/attributes/catalog_type"),
        ({"external_id": "a/b"}, "/data/attributes/external_id"),
        ({"external_id": ""}, "/data/attributes/external_id"),
        ({"custom_metadata": {"nested": {"a": 1}}}, "/data/attributes/custom_metadata"),
        ({"custom_metadata": {"big": "x" * 110_000}}, "/data/attributes/custom_metadata"),
        ({"colour": "red"}, "/data/attributes/colour"),
    ],
)
def test_bad_attribute_is_400_with_pointer(client, account, attrs: dict, pointer: str) -> None:
    body = item_body("B1")
    body["data"]["attributes"].update(attrs)
    status, errors = _post(client, account, body)
    assert status == 400, errors
    assert pointer in [e["source"].get("pointer") for e in errors]


def test_duplicate_external_id_is_409(sdk) -> None:
    sdk.Catalogs.create_catalog_item(item_body("DUP"))
    with pytest.raises(ApiException) as info:
        sdk.Catalogs.create_catalog_item(item_body("DUP"))
    assert info.value.status == 409
    assert '"pointer":"/data/attributes/external_id"' in info.value.body.replace(" ", "")


@pytest.mark.parametrize(
    "bad_id", ["SKU-1", "$shopify:::$default:::X", "$custom:::$other:::X", "$custom:::$default:::"]
)
def test_malformed_compound_id_in_path_is_400(sdk, bad_id: str) -> None:
    with pytest.raises(BadRequestException) as info:
        sdk.Catalogs.get_catalog_item(bad_id)
    assert info.value.data.errors[0].source.parameter == "id"


def test_unknown_category_in_relationships_is_404_with_pointer(client, account) -> None:
    body = item_body("R1")
    body["data"]["relationships"] = {
        "categories": {"data": [{"type": "catalog-category", "id": PREFIX + "nope"}]}
    }
    status, errors = _post(client, account, body)
    assert status == 404
    assert errors[0]["source"]["pointer"] == "/data/relationships/categories/data/0/id"


def test_patch_id_must_match_and_required_fields_cannot_be_cleared(client, account) -> None:
    make_item(client, account, "U1")
    url = f"/api/catalog-items/{PREFIX}U1"
    other = {"data": {"type": "catalog-item", "id": PREFIX + "U2", "attributes": {"title": "x"}}}
    response = client.patch(url, json=other, headers=account.headers())
    assert response.status_code == 400 and response.json()["errors"][0]["source"]["pointer"] == "/data/id"
    clear = {"data": {"type": "catalog-item", "id": PREFIX + "U1", "attributes": {"title": None}}}
    response = client.patch(url, json=clear, headers=account.headers())
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"]["pointer"] == "/data/attributes/title"


def test_bad_filter_values_are_400(client, account) -> None:
    for text in ["any(ids,['SKU-1'])", "equals(published,'yes')", "equals(sku,'x')"]:
        response = client.get("/api/catalog-items", params={"filter": text}, headers=account.headers())
        assert response.status_code == 400, text
        assert response.json()["errors"][0]["source"] == {"parameter": "filter"}


@pytest.mark.parametrize("field", ["title", "external_id", "description"])
def test_a_lone_surrogate_is_400_with_its_pointer(client, account, field: str) -> None:
    import json

    body = item_body("S1")
    body["data"]["attributes"][field] = "x\udfff"
    headers = {**account.headers(), "content-type": "application/vnd.api+json"}
    response = client.post("/api/catalog-items", content=json.dumps(body).encode(), headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["source"] == {"pointer": f"/data/attributes/{field}"}
