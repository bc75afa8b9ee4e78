"""Background work of segments: full builds, incremental updates after writes, the clock's tick.

Writes that can move a profile in or out of a segment tell segments through the hooks of
their domains (events written, list memberships, profile changes), in the writer's
transaction; each asks for the incremental update of those profiles (`enqueue_update`).
Time passing is the tick's: it re-evaluates only the (segment, profile) pairs whose stored
next-change instant has come. Nothing rescans a whole segment on a schedule.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.events import hooks as event_hooks
from tidings.events.store import SEGMENT_SOURCE
from tidings.jobs.queue import enqueue
from tidings.jobs.registry import JobContext, job
from tidings.lists import hooks as list_hooks
from tidings.profiles import hooks as profile_hooks
from tidings.segments import membership
from tidings.segments.service import BUILD_JOB, TICK_JOB, UPDATE_JOB, enqueue_update, has_segments
from tidings.segments.tables import Segment

TICK_SECONDS = 5


@job(BUILD_JOB)
def build_segment(session: Session, context: JobContext) -> None:
    segment_id = str(context.payload["segment_id"])
    membership.build(session, context.account_id, segment_id)
    segment = session.get(Segment, (context.account_id, segment_id))
    if segment is not None:
        segment.is_processing = False


@job(UPDATE_JOB)
def update_segments(session: Session, context: JobContext) -> None:
    membership.update_profiles(
        session,
        context.account_id,
        list(context.payload["profile_ids"]),
        str(context.payload.get("reason", "event")),
    )


@job(TICK_JOB, every_seconds=TICK_SECONDS)
def tick(session: Session, context: JobContext) -> None:
    """The memberships whose next-change instant has come (cheap when none has: one index lookup).
    A backlog larger than one run takes goes on in a follow-up job at once."""
    if membership.tick(session, utcnow()):
        enqueue(session, TICK_JOB, {"follow_up": True})


@event_hooks.on_events_written
def _events_written(session: Session, account_id: str, written: list[event_hooks.WrittenEvent]) -> None:
    # Membership events are the segments' own record; re-reading them is run()'s second pass.
    profiles = [e.profile_id for e in written if e.source != SEGMENT_SOURCE]
    if profiles and has_segments(session, account_id):
        enqueue_update(session, account_id, profiles, "event")


@list_hooks.on_membership_changed
def _list_changed(session: Session, account_id: str, list_id: str, profile_ids: list[str]) -> None:
    if has_segments(session, account_id):
        enqueue_update(session, account_id, profile_ids, "list")


@profile_hooks.on_profiles_changed
def _profiles_changed(session: Session, account_id: str, profile_ids: list[str], reason: str) -> None:
    # A deleted profile's memberships and instants went with it (participants.remove).
    if reason != "deleted" and has_segments(session, account_id):
        enqueue_update(session, account_id, profile_ids, reason)
