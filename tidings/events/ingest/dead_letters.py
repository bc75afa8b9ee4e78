"""Dead letters: accepted items that could not be applied, listed and retried."""

from __future__ import annotations

import json

import msgspec
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from tidings.db.ids import ulid
from tidings.events.ingest.envelope import Envelope, Group, Source, encode
from tidings.events.ingest.inbox import PROCESS_JOB
from tidings.events.ingest.tables import EventFailure, EventInbox
from tidings.jobs.queue import enqueue
from tidings.jsonapi.errors import InvalidInput, NotFound

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
    """Put the item back into the inbox (after, say, the conflicting profile was fixed), as it was
    accepted: its kind (which says whether a public key sent it, so `/client` rules still apply)
    and the time it was received (an event without `time` happened then, not at the retry)."""
    failure = get_failure(session, account_id, failure_id)
    inbox_id = ulid()
    session.add(
        EventInbox(
            account_id=account_id,
            id=inbox_id,
            kind=failure.kind,
            payload=_requeued(failure),
            received=failure.received,
        )
    )
    session.delete(failure)
    # A job of its own: a slot's key may belong to a job that already ran (retries are rare).
    enqueue(session, PROCESS_JOB, account_id=account_id, dedup_key=f"retry:{inbox_id}")
    return inbox_id


def _requeued(failure: EventFailure) -> str:
    """The inbox payload of a dead letter: a legacy payload, or a whole row that failed as one,
    goes back as it came; one group of a row goes back in an envelope of its own."""
    if failure.kind.startswith("legacy_"):
        return failure.payload
    try:
        item = json.loads(failure.payload)
    except ValueError:
        raise InvalidInput(
            f"The failed event {failure.id} cannot be retried: its payload is not JSON."
        ) from None
    if isinstance(item, dict) and "groups" in item:
        return failure.payload
    try:
        group = msgspec.convert(item, Group)
    except msgspec.ValidationError as error:
        raise InvalidInput(
            f"The failed event {failure.id} cannot be retried: its payload is not an event group ({error})."
        ) from None
    # Dead letters retried before the kind was kept are "retry": they were sent to /api.
    source: Source = "client" if failure.kind in CLIENT_KINDS else "api"
    # As it was read (`json.loads`: NaN and all), so written back as `json.dumps` writes it.
    return encode(Envelope(source, failure.received, [group]), plain=False)
