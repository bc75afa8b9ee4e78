"""The seven webhook operations through the official SDK, and bad input answered precisely."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from openapi_client.exceptions import NotFoundException

from tests.conftest import REVISION, AccountKeys
from tests.events.factories import make_events
from tidings.app import create_app


def _body(url: str, topics: list[str], *, name: str = "Orders hook") -> dict:
    return {
        "data": {
            "type": "webhook",
            "attributes": {
                "name": name,
                "description": "for the warehouse",
                "endpoint_url": url,
                "secret_key": "s3cret-s3cret",
            },
            "relationships": {
                "webhook-topics": {"data": [{"type": "webhook-topic", "id": t} for t in topics]}
            },
        }
    }


def test_topics_are_klaviyos_system_topics_and_the_accounts_metrics(sdk, db, account: AccountKeys) -> None:
    make_events(db, account.id, [{"metric": "Viewed Product"}])
    topics = [t.id for t in sdk.Webhooks.get_webhook_topics().data]
    assert "event:klaviyo.received_email" in topics
    assert "event:klaviyo.sent_sms" in topics
    assert "event:api.viewed_product" in topics
    assert topics == sorted(topics)
    one = sdk.Webhooks.get_webhook_topic("event:api.viewed_product")
    assert one.data.id == "event:api.viewed_product"
    with pytest.raises(NotFoundException):
        sdk.Webhooks.get_webhook_topic("event:api.never_happened")


def test_create_get_list_update_delete(sdk, db, account: AccountKeys) -> None:
    make_events(db, account.id, [{"metric": "Placed Order"}])
    created = sdk.Webhooks.create_webhook(
        _body(
            "https://93.184.216.34/hooks/klaviyo?token=abc",
            ["event:api.placed_order", "event:klaviyo.email_delivered"],
        )
    )
    webhook_id = created.data.id
    attributes = created.data.attributes
    assert attributes.name == "Orders hook" and attributes.enabled is True
    assert attributes.endpoint_url == "https://93.184.216.34"  # truncated for security, as Klaviyo does
    topics = sorted(t.id for t in created.data.relationships.webhook_topics.data)
    assert topics == ["event:api.placed_order", "event:klaviyo.received_email"]

    fetched = sdk.Webhooks.get_webhook(webhook_id, include=["webhook-topics"])
    assert fetched.data.attributes.description == "for the warehouse"
    assert sorted(t.id for t in fetched.included) == topics

    listed = sdk.Webhooks.get_webhooks(include=["webhook-topics"])
    assert [w.id for w in listed.data] == [webhook_id]

    updated = sdk.Webhooks.update_webhook(
        webhook_id,
        {
            "data": {
                "type": "webhook",
                "id": webhook_id,
                "attributes": {"name": "Renamed", "enabled": False},
                "relationships": {
                    "webhook-topics": {"data": [{"type": "webhook-topic", "id": "event:api.placed_order"}]}
                },
            }
        },
    )
    assert updated.data.attributes.name == "Renamed" and updated.data.attributes.enabled is False
    assert [t.id for t in updated.data.relationships.webhook_topics.data] == ["event:api.placed_order"]

    sdk.Webhooks.delete_webhook(webhook_id)
    with pytest.raises(NotFoundException):
        sdk.Webhooks.get_webhook(webhook_id)
    assert sdk.Webhooks.get_webhooks().data == []


def _error(response) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.text
    return response.json()["errors"][0]


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://93.184.216.34/hook", "https://"),
        ("ftp://93.184.216.34/hook", "https://"),
        ("https://user:pw@93.184.216.34/hook", "user name or password"),
        ("not a url", "https://"),
    ],
)
def test_a_url_that_is_not_https_is_refused_at_create(
    client, account: AccountKeys, url: str, words: str
) -> None:
    response = client.post(
        "/api/webhooks", json=_body(url, ["event:klaviyo.received_email"]), headers=account.headers()
    )
    error = _error(response)
    assert error["source"]["pointer"] == "/data/attributes/endpoint_url"
    assert words in error["detail"]


@pytest.fixture
def strict_client(settings, db):  # type: ignore[no-untyped-def]
    """The app as it runs in production: TIDINGS_ALLOW_PRIVATE_URLS=false."""
    app = create_app(settings.model_copy(update={"allow_private_urls": False}), db=db, workers=0)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:192.168.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "https://localhost/hook",
        "http://127.0.0.1:9/hook",
    ],
)
def test_a_private_address_is_refused_at_create(strict_client, account: AccountKeys, url: str) -> None:
    response = strict_client.post(
        "/api/webhooks", json=_body(url, ["event:klaviyo.received_email"]), headers=account.headers()
    )
    error = _error(response)
    assert error["source"]["pointer"] == "/data/attributes/endpoint_url"


def test_plain_http_to_loopback_is_allowed_only_with_the_setting(client, account: AccountKeys) -> None:
    ok = client.post(
        "/api/webhooks",
        json=_body("http://127.0.0.1:9/hook", ["event:klaviyo.received_email"]),
        headers=account.headers(),
    )
    assert ok.status_code == 201, ok.text
    refused = client.post(
        "/api/webhooks",
        json=_body("http://10.0.0.1/hook", ["event:klaviyo.received_email"]),
        headers=account.headers(),
    )
    assert "loopback" in _error(refused)["detail"]


def test_unknown_topics_are_named_each_with_its_pointer(client, account: AccountKeys) -> None:
    body = _body("https://93.184.216.34/h", ["event:klaviyo.received_email", "event:api.nope", "bogus"])
    response = client.post("/api/webhooks", json=body, headers=account.headers())
    assert response.status_code == 400
    pointers = [e["source"]["pointer"] for e in response.json()["errors"]]
    assert pointers == [
        "/data/relationships/webhook-topics/data/1/id",
        "/data/relationships/webhook-topics/data/2/id",
    ]


def test_missing_fields_and_a_mismatched_id(client, account: AccountKeys) -> None:
    body = _body("https://93.184.216.34/h", ["event:klaviyo.received_email"])
    del body["data"]["attributes"]["secret_key"]
    assert client.post("/api/webhooks", json=body, headers=account.headers()).status_code == 400
    good = _body("https://93.184.216.34/h", ["event:klaviyo.received_email"])
    webhook_id = client.post("/api/webhooks", json=good, headers=account.headers()).json()["data"]["id"]
    patch = {"data": {"type": "webhook", "id": "01HZZZZZZZZZZZZZZZZZZZZZZZ", "attributes": {}}}
    response = client.patch(f"/api/webhooks/{webhook_id}", json=patch, headers=account.headers())
    assert response.status_code == 409
    patch = {
        "data": {"type": "webhook", "id": webhook_id, "attributes": {"endpoint_url": "http://93.184.216.34/"}}
    }
    response = client.patch(f"/api/webhooks/{webhook_id}", json=patch, headers=account.headers())
    assert _error(response)["source"]["pointer"] == "/data/attributes/endpoint_url"
    headers = {**account.headers(), "revision": REVISION}
    assert client.get(f"/api/webhooks/{webhook_id}", headers=headers).json()["data"]["attributes"][
        "endpoint_url"
    ] == ("https://93.184.216.34")


def test_a_topic_of_another_accounts_metric_is_unknown(
    client, db, account: AccountKeys, other_account
) -> None:
    make_events(db, account.id, [{"metric": "Only In A"}])
    body = _body("https://93.184.216.34/h", ["event:api.only_in_a"])
    response = client.post("/api/webhooks", json=body, headers=other_account.headers())
    assert _error(response)["source"]["pointer"] == "/data/relationships/webhook-topics/data/0/id"
    assert client.post("/api/webhooks", json=body, headers=account.headers()).status_code == 201
