"""Dead letters: accepted items that could not be applied, listed and retried."""

from __future__ import annotations

import json

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.events.inbox import PROCESS_JOB, process_slot
from tidings.events.tables import EventFailure, EventInbox
from tidings.jobs.queue import enqueue
from tidings.jsonapi.errors import NotFound

CLIENT_KINDS = {"client_event", "client_bulk"}


def failures_query(account_id: str | None) -> Select[tuple[EventFailure]]:
    stmt = select(EventFailure).order_by(EventFailure.account_id, EventFailure.id)
    return stmt if account_id is None else stmt.where(EventFailure.account_id == account_id)


def get_failure(session: Session, account_id: str, failure_id: str) -> EventFailure:
    failure = session.get(EventFailure, (account_id, failure_id))
    if failure is None:
        raise NotFound(f"A failed event with id {failure_id} does not exist.")
    return failure


def retry(session: Session, account_id: str, failure_id: str) -> str:
    """Put the item back into the inbox (after, say, the conflicting profile was fixed)."""
    failure = get_failure(session, account_id, failure_id)
    if failure.kind.startswith("legacy_"):
        kind, payload = failure.kind, failure.payload
    else:
        source = "client" if failure.kind in CLIENT_KINDS else "api"
        group = json.loads(failure.payload)
        payload = json.dumps({"source": source, "received": failure.received.isoformat(), "groups": [group]})
        kind = "retry"
    inbox_id = ulid()
    session.add(EventInbox(account_id=account_id, id=inbox_id, kind=kind, payload=payload, received=utcnow()))
    session.delete(failure)
    enqueue(session, PROCESS_JOB, account_id=account_id, dedup_key=f"retry:{process_slot()}")
    return inbox_id
