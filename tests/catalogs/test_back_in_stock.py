"""Back-in-stock subscriptions: the server endpoint (SDK) and the client endpoint (plain HTTP)."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_client.exceptions import BadRequestException, NotFoundException
from sqlalchemy import select

from tests.catalogs.factories import PREFIX, make_item, make_variant
from tidings.catalogs.tables import BackInStockSubscription


def _body(variant: str, channels: list[str], **profile: Any) -> dict[str, Any]:
    return {
        "data": {
            "type": "back-in-stock-subscription",
            "attributes": {
                "channels": channels,
                "profile": {"data": {"type": "profile", "attributes": profile}},
            },
            "relationships": {"variant": {"data": {"type": "catalog-variant", "id": PREFIX + variant}}},
        }
    }


def _subscriptions(db, account_id: str) -> list[BackInStockSubscription]:  # type: ignore[no-untyped-def]
    with db.read() as session:
        return list(
            session.execute(
                select(BackInStockSubscription).where(BackInStockSubscription.account_id == account_id)
            ).scalars()
        )


@pytest.fixture
def variant(client, account) -> str:
    make_item(client, account, "SHOE")
    make_variant(client, account, "SHOE-42", "SHOE", inventory_quantity=0)
    return "SHOE-42"


def test_server_subscription_is_stored_with_its_identifiers(sdk, db, account, variant) -> None:
    body = _body(variant, ["EMAIL", "SMS", "EMAIL"], email="Ada@Example.com", phone_number="+15005550006")
    assert sdk.Catalogs.create_back_in_stock_subscription(body) is None  # 202, no body
    [stored] = _subscriptions(db, account.id)
    assert stored.variant_id == PREFIX + variant
    assert stored.channels == ["EMAIL", "SMS"]
    assert (stored.email, stored.phone_number, stored.source) == ("ada@example.com", "+15005550006", "api")
    # The "Subscribed to Back in Stock" event waits for the profiles domain (see backinstock.py).
    assert stored.event_id is None


def test_client_subscription_uses_the_public_key(client, db, account, variant) -> None:
    response = client.post(
        "/client/back-in-stock-subscriptions",
        params={"company_id": account.public_key},
        json=_body(variant, ["EMAIL"], email="web@example.com"),
        headers={"revision": "2026-10-15"},
    )
    assert response.status_code == 202, response.text
    assert [s.source for s in _subscriptions(db, account.id)] == ["client"]
    refused = client.post(
        "/client/back-in-stock-subscriptions",
        params={"company_id": account.public_key},
        json=_body(variant, ["EMAIL"], email="web@example.com"),
        headers={"revision": "2026-10-15", "Authorization": f"Klaviyo-API-Key {account.private_key}"},
    )
    assert refused.status_code == 400


def test_unknown_variant_is_404(sdk, variant) -> None:
    with pytest.raises(NotFoundException) as info:
        sdk.Catalogs.create_back_in_stock_subscription(_body("nope", ["EMAIL"], email="a@example.com"))
    assert info.value.data.errors[0].source.pointer == "/data/relationships/variant/data/id"


@pytest.mark.parametrize(
    ("channels", "profile", "pointer"),
    [
        (["EMAIL"], {}, "/data/attributes/profile/data/attributes"),
        (["EMAIL"], {"email": "not-an-email"}, "/data/attributes/profile/data/attributes/email"),
        (["SMS"], {"phone_number": "555-1234"}, "/data/attributes/profile/data/attributes/phone_number"),
        (["SMS"], {"email": "a@example.com"}, "/data/attributes/profile/data/attributes/phone_number"),
        (["EMAIL"], {"phone_number": "+15005550006"}, "/data/attributes/profile/data/attributes/email"),
    ],
)
def test_bad_subscriber_is_400_with_pointer(sdk, variant, channels, profile, pointer) -> None:
    with pytest.raises(BadRequestException) as info:
        sdk.Catalogs.create_back_in_stock_subscription(_body(variant, channels, **profile))
    assert pointer in [e.source.pointer for e in info.value.data.errors]


def test_bad_channel_and_malformed_variant_are_400(client, account, variant) -> None:
    for body, pointer in [
        (_body(variant, ["FAX"], email="a@example.com"), "/data/attributes/channels/0"),
        (_body(variant, [], email="a@example.com"), "/data/attributes/channels"),
    ]:
        response = client.post("/api/back-in-stock-subscriptions", json=body, headers=account.headers())
        assert response.status_code == 400
        assert pointer in [e["source"]["pointer"] for e in response.json()["errors"]]
    body = _body(variant, ["EMAIL"], email="a@example.com")
    body["data"]["relationships"]["variant"]["data"]["id"] = "SHOE-42"
    response = client.post("/api/back-in-stock-subscriptions", json=body, headers=account.headers())
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"]["pointer"] == "/data/relationships/variant/data/id"


def test_event_properties_describe_the_variant(db, client, account, variant) -> None:
    from tidings.catalogs import backinstock, repository

    with db.read() as session:
        v = repository.get_variant(session, account.id, PREFIX + variant)
        assert v is not None
        sub = BackInStockSubscription(id="S1", channels=["EMAIL"], source="api")
        props = backinstock.event_properties(sub, v)
    assert props["Catalog Variant ID"] == PREFIX + variant
    assert props["Catalog Item ID"] == PREFIX + "SHOE"
    assert props["SKU"] == "SKU-SHOE-42" and props["Channels"] == ["EMAIL"]
