"""Bulk jobs of items, variants and categories: all nine kinds through the official SDK."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_client.exceptions import BadRequestException, NotFoundException

from tests.catalogs.factories import PREFIX, category_body, item_body, make_category, make_item, variant_body
from tidings.jobs.worker import drain


def _job(kind: str, key: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"data": {"type": kind, "attributes": {key: {"data": entries}}}}


def _items(*names: str) -> list[dict[str, Any]]:
    return [item_body(n)["data"] for n in names]


def test_bulk_create_items_applies_good_entries_and_reports_each_bad_one(sdk, client, account, db) -> None:
    job = sdk.Catalogs.bulk_create_catalog_items(_job("catalog-item-bulk-create-job", "items", _items("B0")))
    assert job is not None, "bulk jobs answer 202 with the job"
    assert (job.data.attributes.status, job.data.attributes.total_count) == ("queued", 1)
    entries = _items("B1", "B2", "B3")
    entries[1]["attributes"]["price"] = "free"  # invalid (the SDK would refuse to send it): fails alone
    entries.append(item_body("B1")["data"])  # duplicate of the first entry
    response = client.post(
        "/api/catalog-item-bulk-create-jobs",
        json=_job("catalog-item-bulk-create-job", "items", entries),
        headers=account.headers(),
    )
    assert response.status_code == 202
    assert response.json()["data"]["attributes"]["total_count"] == 4
    drain(db)
    done = sdk.Catalogs.get_bulk_create_catalog_items_job(response.json()["data"]["id"], include=["items"])
    attrs = done.data.attributes
    assert (attrs.status, attrs.completed_count, attrs.failed_count) == ("complete", 2, 2)
    assert attrs.completed_at is not None
    pointers = {e.source.pointer: e.code for e in attrs.errors}
    assert pointers == {
        "/data/attributes/items/data/1/attributes/price": "invalid",
        "/data/attributes/items/data/3/attributes/external_id": "conflict",
    }
    assert [r.id for r in done.data.relationships.items.data] == [PREFIX + "B1", PREFIX + "B3"]
    assert [i.id for i in done.included] == [PREFIX + "B1", PREFIX + "B3"]
    assert sdk.Catalogs.get_catalog_item(PREFIX + "B3").data.attributes.title == "Item B3"
    with pytest.raises(NotFoundException):
        sdk.Catalogs.get_catalog_item(PREFIX + "B2")


def test_bulk_update_and_delete_items(sdk, client, account, db) -> None:
    make_item(client, account, "U1")
    make_item(client, account, "U2")
    updates = [  # the SDK checks types only; ids are the server's business
        {"type": "catalog-item", "id": PREFIX + "U1", "attributes": {"title": "New title", "price": 1}},
        {"type": "catalog-item", "id": PREFIX + "ghost", "attributes": {"title": "x"}},
        {"type": "catalog-item", "id": "not-compound", "attributes": {"title": "x"}},
    ]
    job = sdk.Catalogs.bulk_update_catalog_items(_job("catalog-item-bulk-update-job", "items", updates))
    drain(db)
    done = sdk.Catalogs.get_bulk_update_catalog_items_job(job.data.id).data.attributes
    assert (done.completed_count, done.failed_count) == (1, 2)
    assert sorted(e.source.pointer for e in done.errors) == [
        "/data/attributes/items/data/1/id",
        "/data/attributes/items/data/2/id",
    ]
    assert sdk.Catalogs.get_catalog_item(PREFIX + "U1").data.attributes.title == "New title"

    deletes = [{"type": "catalog-item", "id": PREFIX + n} for n in ("U1", "U2", "ghost")]
    job = sdk.Catalogs.bulk_delete_catalog_items(_job("catalog-item-bulk-delete-job", "items", deletes))
    drain(db)
    done = sdk.Catalogs.get_bulk_delete_catalog_items_job(job.data.id).data.attributes
    assert (done.status, done.completed_count, done.failed_count) == ("complete", 2, 1)
    assert client.get("/api/catalog-items", headers=account.headers()).json()["data"] == []


def test_bulk_variants(sdk, client, account, db) -> None:
    make_item(client, account, "P")
    entries = [
        variant_body("P-1", "P")["data"],
        variant_body("P-2", "P")["data"],
        variant_body("X-1", "nope")["data"],
    ]
    job = sdk.Catalogs.bulk_create_catalog_variants(
        _job("catalog-variant-bulk-create-job", "variants", entries)
    )
    drain(db)
    done = sdk.Catalogs.get_bulk_create_variants_job(job.data.id, include=["variants"])
    assert (done.data.attributes.completed_count, done.data.attributes.failed_count) == (2, 1)
    assert (
        done.data.attributes.errors[0].source.pointer
        == "/data/attributes/variants/data/2/relationships/item/data/id"
    )
    assert [v.id for v in done.included] == [PREFIX + "P-1", PREFIX + "P-2"]

    updates = [
        {"type": "catalog-variant", "id": PREFIX + "P-1", "attributes": {"inventory_quantity": 0}},
        {"type": "catalog-variant", "id": PREFIX + "P-2", "attributes": {"inventory_quantity": "lots"}},
    ]
    response = client.post(
        "/api/catalog-variant-bulk-update-jobs",
        json=_job("catalog-variant-bulk-update-job", "variants", updates),
        headers=account.headers(),
    )
    assert response.status_code == 202
    drain(db)
    done = sdk.Catalogs.get_bulk_update_variants_job(response.json()["data"]["id"]).data.attributes
    assert (done.completed_count, done.failed_count) == (1, 1)
    assert done.errors[0].source.pointer == "/data/attributes/variants/data/1/attributes/inventory_quantity"
    assert sdk.Catalogs.get_catalog_variant(PREFIX + "P-1").data.attributes.inventory_quantity == 0

    job = sdk.Catalogs.bulk_update_catalog_variants(
        _job(
            "catalog-variant-bulk-update-job",
            "variants",
            [{"type": "catalog-variant", "id": PREFIX + "P-2", "attributes": {"price": 7.25, "sku": "NEW"}}],
        )
    )
    drain(db)
    assert sdk.Catalogs.get_bulk_update_variants_job(job.data.id).data.attributes.completed_count == 1
    assert sdk.Catalogs.get_catalog_variant(PREFIX + "P-2").data.attributes.price == 7.25

    deletes = [{"type": "catalog-variant", "id": PREFIX + "P-1"}]
    job = sdk.Catalogs.bulk_delete_catalog_variants(
        _job("catalog-variant-bulk-delete-job", "variants", deletes)
    )
    drain(db)
    assert sdk.Catalogs.get_bulk_delete_variants_job(job.data.id).data.attributes.completed_count == 1
    with pytest.raises(NotFoundException):
        sdk.Catalogs.get_catalog_variant(PREFIX + "P-1")


def test_bulk_categories(sdk, client, account, db) -> None:
    make_item(client, account, "I")
    entries = [category_body("c1", items=["I"])["data"], category_body("c2")["data"]]
    job = sdk.Catalogs.bulk_create_catalog_categories(
        _job("catalog-category-bulk-create-job", "categories", entries)
    )
    drain(db)
    done = sdk.Catalogs.get_bulk_create_categories_job(job.data.id, include=["categories"])
    assert done.data.attributes.completed_count == 2
    assert [c.id for c in done.included] == [PREFIX + "c1", PREFIX + "c2"]
    assert [c.id for c in sdk.Catalogs.get_categories_for_catalog_item(PREFIX + "I").data] == [PREFIX + "c1"]

    updates = [{"type": "catalog-category", "id": PREFIX + "c2", "attributes": {"name": "Renamed"}}]
    job = sdk.Catalogs.bulk_update_catalog_categories(
        _job("catalog-category-bulk-update-job", "categories", updates)
    )
    drain(db)
    assert sdk.Catalogs.get_bulk_update_categories_job(job.data.id).data.attributes.completed_count == 1
    assert sdk.Catalogs.get_catalog_category(PREFIX + "c2").data.attributes.name == "Renamed"

    deletes = [{"type": "catalog-category", "id": PREFIX + n} for n in ("c1", "c2")]
    job = sdk.Catalogs.bulk_delete_catalog_categories(
        _job("catalog-category-bulk-delete-job", "categories", deletes)
    )
    drain(db)
    assert sdk.Catalogs.get_bulk_delete_categories_job(job.data.id).data.attributes.completed_count == 2
    assert sdk.Catalogs.get_catalog_categories().data == []


def test_job_listings_filter_by_status(sdk, client, account, db) -> None:
    first = sdk.Catalogs.bulk_create_catalog_items(
        _job("catalog-item-bulk-create-job", "items", _items("J1"))
    )
    drain(db)
    second = sdk.Catalogs.bulk_create_catalog_items(
        _job("catalog-item-bulk-create-job", "items", _items("J2"))
    )
    listed = sdk.Catalogs.get_bulk_create_catalog_items_jobs()
    assert [j.id for j in listed.data] == [first.data.id, second.data.id]
    queued = sdk.Catalogs.get_bulk_create_catalog_items_jobs(filter='equals(status,"queued")')
    assert [j.id for j in queued.data] == [second.data.id]
    assert sdk.Catalogs.get_bulk_update_catalog_items_jobs().data == []
    make_category(client, account, "cat")
    for method in (
        sdk.Catalogs.get_bulk_delete_catalog_items_jobs,
        sdk.Catalogs.get_bulk_create_variants_jobs,
        sdk.Catalogs.get_bulk_update_variants_jobs,
        sdk.Catalogs.get_bulk_delete_variants_jobs,
        sdk.Catalogs.get_bulk_create_categories_jobs,
        sdk.Catalogs.get_bulk_update_categories_jobs,
        sdk.Catalogs.get_bulk_delete_categories_jobs,
    ):
        assert method().data == []


def test_a_job_of_one_kind_is_not_found_as_another(sdk, db) -> None:
    job = sdk.Catalogs.bulk_create_catalog_items(_job("catalog-item-bulk-create-job", "items", _items("K1")))
    with pytest.raises(NotFoundException):
        sdk.Catalogs.get_bulk_update_catalog_items_job(job.data.id)
    with pytest.raises(NotFoundException):
        sdk.Catalogs.get_bulk_create_catalog_items_job("01ARZ3NDEKTSV4RRFFQ69G5FAV")


def test_running_a_job_twice_applies_it_once(sdk, db) -> None:
    from tidings.catalogs import bulk

    job = sdk.Catalogs.bulk_create_catalog_items(_job("catalog-item-bulk-create-job", "items", _items("T1")))
    drain(db)
    with db.write() as session:
        account_id = session.execute(
            __import__("sqlalchemy").text("SELECT account_id FROM catalog_bulk_jobs WHERE id = :id"),
            {"id": job.data.id},
        ).scalar_one()
        bulk.apply(session, account_id, job.data.id)
    attrs = sdk.Catalogs.get_bulk_create_catalog_items_job(job.data.id).data.attributes
    assert (attrs.completed_count, attrs.failed_count) == (1, 0)


def test_over_100_entries_and_bad_envelopes_are_400(client: TestClient, account, sdk) -> None:
    too_many = _job("catalog-item-bulk-create-job", "items", _items(*[f"N{i}" for i in range(101)]))
    response = client.post("/api/catalog-item-bulk-create-jobs", json=too_many, headers=account.headers())
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"]["pointer"] == "/data/attributes/items/data"
    for body, pointer in [
        (_job("catalog-item-bulk-create-job", "items", []), "/data/attributes/items/data"),
        (_job("catalog-item-bulk-update-job", "items", _items("x")), "/data/type"),
        (_job("catalog-item-bulk-create-job", "variants", _items("x")), "/data/attributes/variants"),
        (
            {"data": {"type": "catalog-item-bulk-create-job", "attributes": {"items": []}}},
            "/data/attributes/items/data",
        ),
    ]:
        response = client.post("/api/catalog-item-bulk-create-jobs", json=body, headers=account.headers())
        assert response.status_code == 400, body
        assert pointer in [e["source"].get("pointer") for e in response.json()["errors"]]
    with pytest.raises(BadRequestException):
        sdk.Catalogs.bulk_create_catalog_items(too_many)


def test_b_cannot_touch_a_through_a_bulk_job(client, account, other_account, db) -> None:
    make_item(client, account, "MINE")
    body = _job("catalog-item-bulk-delete-job", "items", [{"type": "catalog-item", "id": PREFIX + "MINE"}])
    response = client.post("/api/catalog-item-bulk-delete-jobs", json=body, headers=other_account.headers())
    assert response.status_code == 202
    drain(db)
    job = client.get(
        f"/api/catalog-item-bulk-delete-jobs/{response.json()['data']['id']}", headers=other_account.headers()
    ).json()["data"]["attributes"]
    assert (job["completed_count"], job["failed_count"]) == (0, 1)
    assert job["errors"][0]["code"] == "not_found"
    assert client.get(f"/api/catalog-items/{PREFIX}MINE", headers=account.headers()).status_code == 200
