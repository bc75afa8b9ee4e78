"""A profile's events through a merge, an unmerge and a privacy deletion.

A merge moves the source's events to the destination. Events that collide on (metric,
unique_id) with one of the destination's are dropped from the source (the destination's
wins); the record keeps them so an unmerge restores them. The ids of the moved events are
logged in `profile_merge_moves` (a profile can have millions), and an unmerge moves exactly
those back. A privacy deletion keeps the events for reporting (metric, time and value) and
replaces their properties with `{"$redacted": true}`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, Table, and_, delete, insert, literal, select, update
from sqlalchemy.orm import Session, aliased

from tidings.events.tables import Event
from tidings.profiles.merge import jsonable, restored
from tidings.profiles.participants import ProfileParticipant
from tidings.profiles.tables import MERGE_MOVES, ProfileMergeMove

EVENTS: Table = Event.__table__  # type: ignore[assignment]
EVENT_COLUMNS = [c.name for c in EVENTS.columns]
REDACTED = {"$redacted": True}
MOVE_KIND = "event"


def move(
    session: Session, account_id: str, source_id: str, destination_id: str, merge_id: str
) -> dict[str, Any]:
    events = EVENTS
    theirs = aliased(Event)
    colliding = session.execute(
        select(events)
        .join(
            theirs,
            and_(
                theirs.account_id == events.c.account_id,
                theirs.profile_id == destination_id,
                theirs.metric_id == events.c.metric_id,
                theirs.unique_id == events.c.unique_id,
            ),
        )
        .where(events.c.account_id == account_id, events.c.profile_id == source_id)
    ).mappings()
    dropped = [dict(row) for row in colliding]
    if dropped:
        session.execute(
            delete(events).where(
                events.c.account_id == account_id, events.c.id.in_([r["id"] for r in dropped])
            )
        )
    session.execute(
        insert(MERGE_MOVES).from_select(
            ["account_id", "merge_id", "kind", "ref"],
            select(
                events.c.account_id,
                literal(merge_id, String(26)),
                literal(MOVE_KIND, String(16)),
                events.c.id,
            ).where(events.c.account_id == account_id, events.c.profile_id == source_id),
        )
    )
    moved = session.execute(  # type: ignore[attr-defined]
        update(events)
        .where(events.c.account_id == account_id, events.c.profile_id == source_id)
        .values(profile_id=destination_id)
    ).rowcount
    return {"moved": moved or 0, "dropped": jsonable(dropped)}


def restore(
    session: Session,
    account_id: str,
    source_id: str,
    destination_id: str,
    record: dict[str, Any],
    merge_id: str,
) -> None:
    events = EVENTS
    moves = select(ProfileMergeMove.ref).where(
        ProfileMergeMove.account_id == account_id,
        ProfileMergeMove.merge_id == merge_id,
        ProfileMergeMove.kind == MOVE_KIND,
    )
    session.execute(
        update(events)
        .where(
            events.c.account_id == account_id, events.c.profile_id == destination_id, events.c.id.in_(moves)
        )
        .values(profile_id=source_id)
    )
    dropped = [restored(row) for row in record.get("dropped") or []]
    if dropped:
        session.execute(insert(events), [{k: row.get(k) for k in EVENT_COLUMNS} for row in dropped])


def redact(session: Session, account_id: str, profile_id: str) -> None:
    session.execute(
        update(Event)
        .where(Event.account_id == account_id, Event.profile_id == profile_id)
        .values(properties=REDACTED)
    )


PROFILE_EVENTS = ProfileParticipant("events", move, restore, redact)
