"""Background work of segments: full builds, incremental updates after writes, the clock's tick.

Writes that can move a profile in or out of a segment tell segments through the hooks of
their domains (events written, list memberships, profile changes; see listeners.py), in the
writer's transaction; each asks for the incremental update of those profiles.
Time passing is the tick's: it re-evaluates only the (segment, profile) pairs whose stored
next-change instant has come. Nothing rescans a whole segment on a schedule.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.jobs.queue import enqueue
from tidings.jobs.registry import JobContext, job
from tidings.segments import membership
from tidings.segments.service import BUILD_JOB, TICK_JOB, UPDATE_JOB
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


JOBS = (build_segment, update_segments, tick)
