"""A batch's body, in Klaviyo's shape: `{"meta": {...}, "data": [{topic, external_id, payload}]}`,
each payload the event as `GET /api/events/{id}` gives it."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.events.render import event_resource
from tidings.events.tables import Event
from tidings.jsonapi.documents import Urls
from tidings.webhooks.topics import metric_topics

VERSION = "2024-06-28"  # meta.version of Klaviyo's webhook bodies


@dataclass
class Body:
    text: str
    event_ids: list[str]  # those still there (an event deleted since it was matched is left out)
    topics: list[str]


def build(
    session: Session, account_id: str, webhook_id: str, event_ids: list[str], urls: Urls, now: dt.datetime
) -> Body:
    events = {
        e.id: e
        for e in session.execute(
            select(Event).where(Event.account_id == account_id, Event.id.in_(event_ids))
        ).scalars()
    }
    by_metric = metric_topics(session, account_id, sorted({e.metric_id for e in events.values()}))
    items: list[dict[str, object]] = []
    kept: list[str] = []
    topics: set[str] = set()
    for event_id in event_ids:
        found = events.get(event_id)
        if found is None:
            continue
        kept.append(event_id)
        topic = by_metric.get(found.metric_id, "")
        topics.add(topic)
        items.append(
            {
                "topic": topic,
                "external_id": event_id,
                "payload": {"data": event_resource(urls, found)},
            }
        )
    meta = {
        "timestamp": now.astimezone(dt.UTC).isoformat(),
        "klaviyo_webhook_id": webhook_id,
        "klaviyo_account_id": account_id,
        "version": VERSION,
    }
    text = json.dumps({"meta": meta, "data": items}, separators=(",", ":"), default=str)
    return Body(text, kept, sorted(topics))
