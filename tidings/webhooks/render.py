"""Webhooks, topics, deliveries and attempts as JSON:API resources."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from tidings.jsonapi.documents import Urls, iso, resource
from tidings.webhooks.service import WebhookView
from tidings.webhooks.tables import Webhook, WebhookAttempt, WebhookBatch

DELIVERIES = "x-tidings/webhook-deliveries"


def truncated_url(url: str) -> str:
    """The endpoint as Klaviyo shows it, "truncated for security": scheme and host only (a
    path or query may carry a token)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        return ""
    port = f":{parsed.port}" if parsed.port else ""
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    return f"{parsed.scheme}://{host}{port}"


def topic_resource(urls: Urls, topic: str) -> dict[str, Any]:
    return {"type": "webhook-topic", "id": topic, "links": {"self": urls.resource("webhook-topics", topic)}}


def webhook_resource(urls: Urls, item: WebhookView, fields: list[str] | None = None) -> dict[str, Any]:
    webhook = item.webhook
    attributes = {
        "name": webhook.name,
        "description": webhook.description,
        "endpoint_url": truncated_url(webhook.endpoint_url),
        "enabled": webhook.enabled,
        "created_at": iso(webhook.created),
        "updated_at": iso(webhook.updated),
    }
    # No relationship links: Klaviyo's spec has no route behind them.
    relationships = {"webhook-topics": {"data": [{"type": "webhook-topic", "id": t} for t in item.topics]}}
    return resource(
        "webhook", webhook.id, attributes, urls.resource("webhooks", webhook.id),
        relationships=relationships, fields=fields,
    )  # fmt: skip


def included_topics(urls: Urls, items: list[WebhookView]) -> list[dict[str, Any]]:
    seen: dict[str, None] = {}
    for item in items:
        seen.update(dict.fromkeys(item.topics))
    return [topic_resource(urls, topic) for topic in seen]


def attempt_attributes(attempt: WebhookAttempt) -> dict[str, Any]:
    return {
        "attempted_at": iso(attempt.attempted_at),
        "succeeded": attempt.succeeded,
        "status_code": attempt.status_code,
        "error": attempt.error,
        "duration_ms": attempt.duration_ms,
        "response_body": attempt.response_body,
        "next_attempt_at": iso(attempt.next_attempt_at),
    }


def delivery_resource(urls: Urls, batch: WebhookBatch, attempts: list[WebhookAttempt]) -> dict[str, Any]:
    """A batch sent (or to be sent) to an endpoint, with every attempt, oldest first."""
    attributes = {
        "webhook_id": batch.webhook_id,
        "status": batch.status,
        "event_count": len(batch.event_ids),
        "event_ids": list(batch.event_ids),
        "topics": list(batch.topics),
        "attempts": batch.attempts,
        "last_status_code": batch.last_status_code,
        "last_error": batch.last_error,
        "created": iso(batch.created),
        "delivered_at": iso(batch.delivered_at),
        "attempt_log": [attempt_attributes(a) for a in attempts],
    }
    return resource(
        "webhook-delivery", batch.id, attributes, f"{urls.base}/api/{DELIVERIES}/{quote(batch.id)}"
    )


def status_resource(urls: Urls, webhook: Webhook, pending_events: int) -> dict[str, Any]:
    attributes = {
        "enabled": webhook.enabled,
        "consecutive_failures": webhook.failures,
        "retry_at": iso(webhook.retry_at),
        "disabled_at": iso(webhook.disabled_at),
        "disabled_reason": webhook.disabled_reason,
        "pending_events": pending_events,
    }
    self_url = f"{urls.base}/api/x-tidings/webhooks/{quote(webhook.id)}/status"
    return resource("webhook-status", webhook.id, attributes, self_url)
