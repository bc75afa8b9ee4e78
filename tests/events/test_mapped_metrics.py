"""Mapped metrics through the SDK: Klaviyo's defaults, mapping to a metric or a custom metric, and
each account's own mappings."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_client.exceptions import NotFoundException

from tests.conftest import AccountKeys
from tests.events.factories import make_events, metric_id
from tidings.events import mapped_metrics

KINDS = sorted(mapped_metrics.KINDS)


def _id(item: Any) -> str:
    """The id of an included resource (the SDK leaves a oneOf of metric and custom metric a dict)."""
    return str(item["id"] if isinstance(item, dict) else item.id)


def _patch(kind: str, **relationships: Any) -> dict[str, Any]:
    return {"data": {"type": "mapped-metric", "id": kind, "relationships": relationships}}


def test_sdk_defaults_then_mappings(db, sdk, account: AccountKeys) -> None:  # type: ignore[no-untyped-def]
    make_events(db, account.id, [{"metric": "Placed Order"}, {"metric": "Shop Order"}])
    placed, shop = metric_id(db, account.id, "Placed Order"), metric_id(db, account.id, "Shop Order")

    listed = sdk.Metrics.get_mapped_metrics(include=["metric", "custom-metric"])
    assert [m.id for m in listed.data] == KINDS
    revenue = next(m for m in listed.data if m.id == "revenue")
    assert revenue.relationships.metric.data.id == placed  # Klaviyo's default: its Placed Order
    assert revenue.relationships.custom_metric.data is None
    assert [_id(i) for i in listed.included] == [placed]
    assert sdk.Metrics.get_mapped_metric("viewed_product").data.relationships.metric.data is None

    updated = sdk.Metrics.update_mapped_metric(
        "revenue", _patch("revenue", metric={"data": {"type": "metric", "id": shop}})
    ).data
    assert updated.relationships.metric.data.id == shop
    assert sdk.Metrics.get_metric_for_mapped_metric("revenue").data.id == shop
    assert sdk.Metrics.get_metric_id_for_mapped_metric("revenue").data.id == shop

    custom = sdk.Metrics.create_custom_metric(
        {
            "data": {
                "type": "custom-metric",
                "attributes": {
                    "name": "All orders",
                    "definition": {
                        "aggregation_method": "value",
                        "metric_groups": [{"metric_id": placed}, {"metric_id": shop}],
                    },
                },
            }
        }
    ).data.id
    sdk.Metrics.update_mapped_metric(
        "revenue", _patch("revenue", **{"custom-metric": {"data": {"type": "custom-metric", "id": custom}}})
    )
    one = sdk.Metrics.get_mapped_metric("revenue", include=["custom-metric"])
    assert one.data.relationships.custom_metric.data.id == custom
    assert one.data.relationships.metric.data is None  # one mapping at a time
    assert _id(one.included[0]) == custom
    assert sdk.Metrics.get_custom_metric_for_mapped_metric("revenue").data.id == custom
    assert sdk.Metrics.get_custom_metric_id_for_mapped_metric("revenue").data.id == custom
    with db.read() as session:
        assert mapped_metrics.conversion_metric(session, account.id, "revenue") == custom

    # Deleting the custom metric unmaps it; a null linkage unsets a mapping.
    sdk.Metrics.delete_custom_metric(custom)
    assert sdk.Metrics.get_mapped_metric("revenue").data.relationships.custom_metric.data is None
    cleared = sdk.Metrics.update_mapped_metric("revenue", _patch("revenue", metric={"data": None})).data
    assert cleared.relationships.metric.data is None
    assert sdk.Metrics.get_metric_for_mapped_metric("revenue").data is None


def test_bad_mappings(db, client, account: AccountKeys, other_account: AccountKeys) -> None:  # type: ignore[no-untyped-def]
    make_events(db, other_account.id, [{"metric": "Placed Order"}])
    theirs = metric_id(db, other_account.id, "Placed Order")

    def patch(kind: str, body: dict[str, Any]) -> Any:
        return client.patch(f"/api/mapped-metrics/{kind}", json=body, headers=account.headers())

    response = patch("revenue", _patch("revenue", metric={"data": {"type": "metric", "id": theirs}}))
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"]["pointer"] == "/data/relationships/metric/data/id"
    both = _patch(
        "revenue",
        metric={"data": {"type": "metric", "id": theirs}},
        **{"custom-metric": {"data": {"type": "custom-metric", "id": "a" * 32}}},
    )
    assert patch("revenue", both).status_code == 400
    assert patch("revenue", _patch("added_to_cart")).status_code == 409
    assert client.get("/api/mapped-metrics/bogus", headers=account.headers()).status_code in (400, 404)


def test_an_accounts_mappings_are_its_own(db, sdk, client, account, other_account) -> None:  # type: ignore[no-untyped-def]
    make_events(db, account.id, [{"metric": "Shop Order"}])
    shop = metric_id(db, account.id, "Shop Order")
    sdk.Metrics.update_mapped_metric(
        "revenue", _patch("revenue", metric={"data": {"type": "metric", "id": shop}})
    )
    theirs = client.get("/api/mapped-metrics/revenue", headers=other_account.headers()).json()
    assert theirs["data"]["relationships"]["metric"]["data"] is None
    with pytest.raises(NotFoundException):
        sdk.Metrics.get_custom_metric_for_mapped_metric("nope")
