"""Events written -> the webhook outbox, in the writer's transaction.

The composition root registers `events_written` on `events.hooks.EVENTS_WRITTEN`. For an
account with no enabled webhook this costs one small query per transaction. Otherwise each
written event whose metric's topic enabled endpoints subscribe to becomes one `webhook_matches`
row naming those endpoints (the key `(account, event)`: at most one), which commits, or not,
with the event; the sender (`webhooks.sender`) fans it out into one outbox row per endpoint
(the key `(account, endpoint, event)`), batches and sends them after the commit.
"""

from __future__ import annotations

import threading

from sqlalchemy import event
from sqlalchemy.orm import Session

from tidings.db.dialect import bulk_insert
from tidings.events.hooks import WrittenEvent
from tidings.jobs.gather import transaction_scoped
from tidings.webhooks import repository, topics
from tidings.webhooks.tables import WebhookMatch

_SUBSCRIPTIONS = "webhooks.subscriptions"
_OUTBOXED = "webhooks.outboxed"
# (account, metric id) -> topic: a metric's integration and name never change.
_metric_topics: dict[tuple[str, str], str] = {}
_MAX_CACHED = 100_000
MATCHES = WebhookMatch.__table__

# Set after a commit that put events in the outbox, so this process's sender looks at once.
wakeup = threading.Event()


@event.listens_for(Session, "after_commit")
def _wake_sender(session: Session) -> None:
    if session.info.pop(_OUTBOXED, False):
        wakeup.set()


def subscriptions(session: Session, account_id: str) -> dict[str, list[str]]:
    """Topic -> enabled endpoints, read once per transaction and account."""
    known: dict[str, dict[str, list[str]]] = transaction_scoped(session, _SUBSCRIPTIONS)
    if account_id not in known:
        known[account_id] = repository.enabled_subscriptions(session, account_id)
    return known[account_id]


def _topics(session: Session, account_id: str, metric_ids: set[str]) -> dict[str, str]:
    found = {m: t for m in metric_ids if (t := _metric_topics.get((account_id, m))) is not None}
    missing = [m for m in metric_ids if m not in found]
    if missing:
        looked_up = topics.metric_topics(session, account_id, missing)
        if len(_metric_topics) > _MAX_CACHED:
            _metric_topics.clear()
        for metric_id, topic in looked_up.items():
            _metric_topics[(account_id, metric_id)] = topic
        found.update(looked_up)
    return found


def events_written(session: Session, account_id: str, written: list[WrittenEvent]) -> None:
    subscribed = subscriptions(session, account_id)
    if not subscribed:
        return
    by_metric = _topics(session, account_id, {e.metric_id for e in written})
    endpoints = {m: ",".join(subscribed[t]) for m, t in by_metric.items() if t in subscribed}
    rows = [
        {"account_id": account_id, "event_id": e.id, "webhook_ids": endpoints[e.metric_id]}
        for e in written
        if e.metric_id in endpoints
    ]
    if rows:
        # A plain INSERT (one statement of arrays on PostgreSQL): the events are new, so no row
        # can exist yet; a batch retried row by row rolled its savepoint's rows back with it.
        bulk_insert(session, MATCHES, rows)  # type: ignore[arg-type]
        session.info[_OUTBOXED] = True
