"""Listeners told about events as they are written, in the same transaction.

Segments, flows and profiles (last_event_date) register here instead of being called by
the event store, so the store knows none of them. A listener should enqueue work rather
than do much itself: it runs inside the writer's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from tidings.hooks import Hook


class WrittenEvent(NamedTuple):
    """An event as written (immutable; a tuple, as a batch makes thousands of them)."""

    id: str
    metric_id: str
    profile_id: str
    time: dt.datetime
    backfill: bool
    properties: dict[str, Any]
    source: str = "api"  # NewEvent.source: "api", "client", "legacy", "internal", ...


Listener = Callable[[Session, str, list[WrittenEvent]], None]
EVENTS_WRITTEN: Hook[Listener] = Hook("events written")


def notify(session: Session, account_id: str, written: list[WrittenEvent]) -> None:
    if written:
        for listener in EVENTS_WRITTEN:
            listener(session, account_id, written)
