"""Writing what a report reads, directly: ledger rows as delivery leaves them and the message
events as delivery, tracking and consent write them (the flows domain does not exist yet, so
flow sends are written the way its executor will write them: rows of source kind `flow_action`
whose context names `$flow` and `$message`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert

from tidings.db.ids import ulid
from tidings.db.session import Database
from tidings.delivery.tables import MessageSend
from tidings.events.metrics import API, KLAVIYO, MetricKey, ensure_metrics
from tidings.events.store import NewEvent, write_events

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@dataclass
class Send:
    profile_id: str
    source_kind: str
    source_id: str
    channel: str = "email"
    status: str = "sent"
    at: dt.datetime = T0  # when it went out (finished_at)
    context: dict[str, Any] | None = None
    bounce_type: str | None = None
    bounced_at: dt.datetime | None = None
    complained_at: dt.datetime | None = None
    opened_at: dt.datetime | None = None
    clicked_at: dt.datetime | None = None
    id: str = field(default_factory=ulid)


def add_sends(db: Database, account_id: str, sends: list[Send]) -> None:
    rows = [
        {
            "account_id": account_id,
            "id": send.id,
            "idempotency_key": f"test:{send.id}",
            "channel": send.channel,
            "profile_id": send.profile_id,
            "source_kind": send.source_kind,
            "source_id": send.source_id,
            "context": send.context,
            "status": send.status,
            "message_id": f"<{send.id}@test>",
            "created": send.at,
            "planned_for": send.at,
            "sending_at": send.at,
            "finished_at": send.at if send.status != "sending" else None,
            "bounce_type": send.bounce_type,
            "bounced_at": send.bounced_at,
            "complained_at": send.complained_at,
            "opened_at": send.opened_at,
            "clicked_at": send.clicked_at,
            "attempts": 1,
            "resends": 0,
        }
        for send in sends
    ]
    if rows:
        with db.write() as session:
            session.execute(insert(MessageSend.__table__), rows)


@dataclass
class Happened:
    metric: str
    profile_id: str
    at: dt.datetime
    properties: dict[str, Any] = field(default_factory=dict)
    value: float | None = None
    klaviyo: bool = True  # Klaviyo's own metric (a message event) or an integration's (an order)


def add_events(db: Database, account_id: str, happened: list[Happened]) -> None:
    events = [
        NewEvent(
            profile_id=h.profile_id,
            metric=MetricKey(h.metric, KLAVIYO if h.klaviyo else API),
            time=h.at,
            properties=dict(h.properties),
            value=h.value,
            unique_id=ulid(),
            source="internal" if h.klaviyo else "api",
        )
        for h in happened
    ]
    with db.write() as session:
        write_events(session, account_id, events)


def metric_id(db: Database, account_id: str, name: str = "Placed Order") -> str:
    with db.write() as session:
        key = MetricKey(name, API)
        return ensure_metrics(session, account_id, {key})[key]
