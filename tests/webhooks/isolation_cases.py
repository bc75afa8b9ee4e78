"""Isolation cases of the webhook routes (see tests/isolation.py)."""

from __future__ import annotations

import uuid

from tests.events.factories import make_events
from tests.isolation import Case, Env, Listing
from tests.webhooks.helpers import make_webhook, send_round

HOOKS = "/api/webhooks"


def _metric(env: Env) -> tuple[str, str]:
    name = f"Iso {uuid.uuid4().hex[:8]}"
    make_events(env.db, env.a.id, [{"metric": name}])
    return name, f"event:api.{name.lower().replace(' ', '_')}"


def a_metric_topic(env: Env) -> dict[str, str]:
    return {"id": _metric(env)[1]}


def a_webhook(env: Env) -> dict[str, str]:
    return {
        "id": make_webhook(env.client, env.a, "https://93.184.216.34/iso", ["event:klaviyo.received_email"])
    }


def a_delivery(env: Env) -> dict[str, str]:
    """A batch with one failed attempt (nothing listens on port 9)."""
    name, topic = _metric(env)
    webhook_id = make_webhook(env.client, env.a, "http://127.0.0.1:9/iso", [topic])
    make_events(env.db, env.a.id, [{"metric": name}])
    send_round(env.db, env.db.settings, env.a.id)
    listed = env.as_a("GET", f"/api/x-tidings/webhooks/{webhook_id}/deliveries")
    assert listed.status_code == 200, listed.text
    (delivery,) = listed.json()["data"]
    return {"id": delivery["id"], "webhook": webhook_id}


def webhook_unchanged(env: Env, params: dict[str, str]) -> None:
    response = env.as_a("GET", f"{HOOKS}/{params['id']}")
    assert response.status_code == 200, response.text
    assert response.json()["data"]["attributes"]["name"] == "hook"


CASES = [
    Case("GET", HOOKS + "/{id}", a_webhook),
    Case(
        "PATCH",
        HOOKS + "/{id}",
        a_webhook,
        body=lambda p: {"data": {"type": "webhook", "id": p["id"], "attributes": {"name": "B was here"}}},
        unchanged=webhook_unchanged,
    ),
    Case("DELETE", HOOKS + "/{id}", a_webhook, unchanged=webhook_unchanged),
    Case("GET", "/api/webhook-topics/{id}", a_metric_topic),
    Case("GET", "/api/x-tidings/webhooks/{id}/deliveries", a_webhook),
    Case("GET", "/api/x-tidings/webhooks/{id}/status", a_webhook),
    Case("GET", "/api/x-tidings/webhook-deliveries/{id}", a_delivery),
    Case("POST", "/api/x-tidings/webhook-deliveries/{id}/redeliver", a_delivery),
]
EXEMPT = {
    ("POST", HOOKS): "creates in the caller's account; a topic of another account's metric is refused "
    "as unknown (tests/webhooks/test_webhooks_sdk.py)",
}
LISTINGS = [
    Listing(HOOKS, lambda env: [a_webhook(env)["id"]]),
    Listing("/api/webhook-topics", lambda env: [a_metric_topic(env)["id"]]),
]
