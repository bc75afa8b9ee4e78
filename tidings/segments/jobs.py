"""Background work of segments: full builds, incremental updates after writes, the time sweep."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.events import hooks as event_hooks
from tidings.jobs.registry import JobContext, job
from tidings.lists import hooks as list_hooks
from tidings.segments import membership
from tidings.segments.service import BUILD_JOB, UPDATE_JOB, enqueue_update
from tidings.segments.tables import Segment

SWEEP_SECONDS = 60


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


@job("segments.sweep", every_seconds=SWEEP_SECONDS)
def sweep(session: Session, context: JobContext) -> None:
    """Memberships that change with time alone (relative windows) and with profile edits, which no
    hook reports yet: every active segment is rebuilt once a minute."""
    accounts = session.execute(select(Segment.account_id).distinct()).scalars().all()
    for account_id in accounts:
        segments = membership.ordered(membership.active_segments(session, account_id))
        for segment in segments:
            membership.apply(session, account_id, segment, None, "time")


@event_hooks.on_events_written
def _events_written(session: Session, account_id: str, written: list[event_hooks.WrittenEvent]) -> None:
    if _has_segments(session, account_id):
        enqueue_update(session, account_id, [e.profile_id for e in written], "event")


@list_hooks.on_membership_changed
def _list_changed(session: Session, account_id: str, list_id: str, profile_ids: list[str]) -> None:
    if _has_segments(session, account_id):
        enqueue_update(session, account_id, profile_ids, "list")


def _has_segments(session: Session, account_id: str) -> bool:
    stmt = select(Segment.id).where(Segment.account_id == account_id).limit(1)
    return session.execute(stmt).first() is not None
