"""Helpers for the reporting tests: a campaign made through the API, the statistics asked for."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import AccountKeys

STABLE = "2026-07-15"
ALL_STATISTICS = [
    "average_order_value",
    "bounce_rate",
    "bounced",
    "bounced_or_failed",
    "bounced_or_failed_rate",
    "click_rate",
    "click_to_open_rate",
    "clicks",
    "clicks_unique",
    "conversion_rate",
    "conversion_uniques",
    "conversion_value",
    "conversions",
    "delivered",
    "delivery_rate",
    "failed",
    "failed_rate",
    "message_segment_count_sum",
    "open_rate",
    "opens",
    "opens_unique",
    "recipients",
    "revenue_per_recipient",
    "spam_complaint_rate",
    "spam_complaints",
    "text_message_credit_usage_amount",
    "text_message_roi",
    "text_message_spend",
    "unsubscribe_rate",
    "unsubscribe_uniques",
    "unsubscribes",
]


def make_campaign(client: TestClient, keys: AccountKeys, name: str = "Spring sale") -> tuple[str, str]:
    """A campaign with one email message, made through the API: (campaign id, message id)."""
    response = client.post(
        "/api/lists",
        json={"data": {"type": "list", "attributes": {"name": f"{name} list"}}},
        headers=keys.headers(),
    )
    assert response.status_code == 201, response.text
    list_id = response.json()["data"]["id"]
    message = {
        "type": "campaign-message",
        "attributes": {
            "definition": {"channel": "email", "label": f"{name} email", "content": {"subject": "Hi"}}
        },
    }
    body = {
        "data": {
            "type": "campaign",
            "attributes": {
                "name": name,
                "audiences": {"included": [list_id]},
                "campaign-messages": {"data": [message]},
            },
        }
    }
    response = client.post("/api/campaigns", json=body, headers=keys.headers(STABLE))
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    return str(data["id"]), str(data["relationships"]["campaign-messages"]["data"][0]["id"])


def report_body(kind: str, **attributes: Any) -> dict[str, Any]:
    return {"data": {"type": kind, "attributes": attributes}}
