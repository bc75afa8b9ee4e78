"""Small keyword-only factories for catalog tests (plain HTTP bodies, as the SDK sends them)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import AccountKeys

PREFIX = "$custom:::$default:::"


def item_body(external_id: str, **attrs: Any) -> dict[str, Any]:
    attributes = {
        "external_id": external_id,
        "title": f"Item {external_id}",
        "description": "A thing.",
        "url": f"https://shop.example.com/p/{external_id}",
        "price": 10.5,
        **attrs,
    }
    return {"data": {"type": "catalog-item", "attributes": attributes}}


def variant_body(external_id: str, item_external_id: str, **attrs: Any) -> dict[str, Any]:
    attributes = {
        "external_id": external_id,
        "title": f"Variant {external_id}",
        "description": "A size.",
        "sku": f"SKU-{external_id}",
        "inventory_quantity": 5,
        "price": 10.5,
        "url": f"https://shop.example.com/v/{external_id}",
        **attrs,
    }
    return {
        "data": {
            "type": "catalog-variant",
            "attributes": attributes,
            "relationships": {"item": {"data": {"type": "catalog-item", "id": PREFIX + item_external_id}}},
        }
    }


def category_body(
    external_id: str, name: str | None = None, items: list[str] | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "catalog-category",
        "attributes": {"external_id": external_id, "name": name or f"Category {external_id}"},
    }
    if items is not None:
        data["relationships"] = {
            "items": {"data": [{"type": "catalog-item", "id": PREFIX + i} for i in items]}
        }
    return {"data": data}


def make_item(client: TestClient, account: AccountKeys, external_id: str, **attrs: Any) -> dict[str, Any]:
    response = client.post(
        "/api/catalog-items", json=item_body(external_id, **attrs), headers=account.headers()
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]


def make_variant(
    client: TestClient, account: AccountKeys, external_id: str, item_external_id: str, **attrs: Any
) -> dict[str, Any]:
    response = client.post(
        "/api/catalog-variants",
        json=variant_body(external_id, item_external_id, **attrs),
        headers=account.headers(),
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]


def make_category(
    client: TestClient, account: AccountKeys, external_id: str, items: list[str] | None = None
) -> dict[str, Any]:
    response = client.post(
        "/api/catalog-categories", json=category_body(external_id, items=items), headers=account.headers()
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]
