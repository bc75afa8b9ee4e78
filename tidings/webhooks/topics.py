"""Webhook topics: every metric is one, `event:{integration}.{slug of its name}`.

Klaviyo's system topics (its own metrics: email, SMS, push, reviews) are listed even before an
account has such an event, so an integration can subscribe on its first day; every other
metric of the account (API, client, custom integrations, Tidings' own) is a topic once it
exists. `event:klaviyo.email_delivered`, the example in Klaviyo's webhook guide, is taken as
the name it gives `Received Email` ([INF]; docs/COMPATIBILITY.md).
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.events.metrics import KLAVIYO
from tidings.events.tables import Metric

PREFIX = "event:"
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
TOPIC_PATTERN = re.compile(r"^event:[a-z0-9_\-]+\.[a-z0-9_]+$")

# Klaviyo's system metrics, by name (semantics §11).
SYSTEM_METRICS = (
    "Bounced Email",
    "Clicked Email",
    "Dropped Email",
    "Received Email",
    "Opened Email",
    "Marked Email as Spam",
    "Subscribed to Email Marketing",
    "Unsubscribed from Email Marketing",
    "Manually Suppressed from Email Marketing",
    "Manually Unsuppressed from Email Marketing",
    "Updated Email Preferences",
    "Clicked SMS",
    "Failed to Deliver SMS",
    "Failed to Deliver Automated Response SMS",
    "Received SMS",
    "Received Automated Response SMS",
    "Sent SMS",
    "Subscribed to SMS Marketing",
    "Unsubscribed from SMS Marketing",
    "Received Push",
    "Bounced Push",
    "Opened Push",
    "Ready to Review",
    "Submitted Rating",
    "Submitted Review",
)
ALIASES = {"event:klaviyo.email_delivered": "event:klaviyo.received_email"}


def slug(name: str) -> str:
    """`Received Email` -> `received_email`; `Viewed Product` -> `viewed_product`."""
    return _NOT_SLUG.sub("_", name.lower()).strip("_") or "metric"


def topic_for(integration_key: str, name: str) -> str:
    integration = _NOT_SLUG.sub("_", integration_key.lower()).strip("_") or "api"
    return f"{PREFIX}{integration}.{slug(name)}"


SYSTEM_TOPICS = tuple(topic_for(KLAVIYO, name) for name in SYSTEM_METRICS)


def canonical(topic: str) -> str:
    return ALIASES.get(topic, topic)


def account_topics(session: Session, account_id: str) -> list[str]:
    """Every topic the account may subscribe to, sorted."""
    rows = session.execute(select(Metric.integration_key, Metric.name).where(Metric.account_id == account_id))
    return sorted({*SYSTEM_TOPICS, *(topic_for(key, name) for key, name in rows)})


def metric_topics(session: Session, account_id: str, metric_ids: list[str]) -> dict[str, str]:
    """The topic of each of these metrics."""
    if not metric_ids:
        return {}
    rows = session.execute(
        select(Metric.id, Metric.integration_key, Metric.name).where(
            Metric.account_id == account_id, Metric.id.in_(metric_ids)
        )
    )
    return {metric_id: topic_for(key, name) for metric_id, key, name in rows}
