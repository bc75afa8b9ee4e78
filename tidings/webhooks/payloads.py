"""A batch's body, in Klaviyo's shape: `{"meta": {...}, "data": [{topic, external_id, payload}]}`,
each payload the event as `GET /api/events/{id}` gives it.

A round of the sender renders each event once, however many endpoints' batches carry it: the
`Renderer` reads the events it is asked for in one query and keeps each item's JSON text.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.db.dialect import in_values
from tidings.events.render import event_resource
from tidings.events.tables import Event
from tidings.jsonapi.documents import Urls
from tidings.webhooks.topics import metric_topics

VERSION = "2024-06-28"  # meta.version of Klaviyo's webhook bodies
EVENTS = Event.__table__


@dataclass
class Body:
    text: str
    event_ids: list[str]  # those still there (an event deleted since it was matched is left out)
    topics: list[str]


class Renderer:
    def __init__(self, session: Session, account_id: str, urls: Urls) -> None:
        self.session = session
        self.account_id = account_id
        self.urls = urls
        self._items: dict[str, tuple[str, str]] = {}  # event id -> (topic, the item's JSON)
        self._topics: dict[str, str] = {}  # metric id -> topic

    def prefetch(self, event_ids: list[str]) -> None:
        missing = sorted({e for e in event_ids if e not in self._items})
        for start in range(0, len(missing), 1000):
            chunk = missing[start : start + 1000]
            rows = self.session.execute(
                select(EVENTS).where(
                    EVENTS.c.account_id == self.account_id, in_values(self.session, EVENTS.c.id, chunk)
                )
            ).all()
            unknown = sorted({r.metric_id for r in rows} - set(self._topics))
            self._topics.update(metric_topics(self.session, self.account_id, unknown))
            for row in rows:
                topic = self._topics.get(row.metric_id, "")
                item = {
                    "topic": topic,
                    "external_id": row.id,
                    "payload": {"data": event_resource(self.urls, cast(Any, row))},
                }
                self._items[row.id] = (topic, json.dumps(item, separators=(",", ":"), default=str))

    def body(self, webhook_id: str, event_ids: list[str], now: dt.datetime) -> Body:
        self.prefetch(event_ids)
        kept = [e for e in event_ids if e in self._items]
        meta = {
            "timestamp": now.astimezone(dt.UTC).isoformat(),
            "klaviyo_webhook_id": webhook_id,
            "klaviyo_account_id": self.account_id,
            "version": VERSION,
        }
        data = ",".join(self._items[e][1] for e in kept)
        text = f'{{"meta":{json.dumps(meta, separators=(",", ":"))},"data":[{data}]}}'
        return Body(text, kept, sorted({self._items[e][0] for e in kept}))
