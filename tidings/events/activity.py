"""The profile's `last_event_date`, kept by the events domain as events are written.

Each batch of written events raises its profiles' last_event_date to their newest event. A
profile that another transaction is changing right now is left to a job (raising is
order-free), so that the event processor never waits here on a profile row while it holds
other locks: identity resolution locks a batch's profiles only as strongly as resolving needs
(often FOR KEY SHARE), and waiting here for a batch that changes the same profile, which may
itself wait on this one (the same new metric, event or job), would deadlock.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from tidings.db.dialect import bulk_raise
from tidings.events.hooks import WrittenEvent
from tidings.jobs.queue import enqueue
from tidings.jobs.registry import JobContext, job
from tidings.profiles import hooks as profile_hooks
from tidings.profiles import repository as profiles
from tidings.profiles.tables import PROFILES

RAISE_LAST_EVENT_DATE = "profiles.raise_last_event_date"  # the name queued jobs already carry


def keep_last_event_date(session: Session, account_id: str, written: list[WrittenEvent]) -> None:
    """Raise each profile's last_event_date to its newest written event."""
    latest: dict[str, dt.datetime] = {}
    for event in written:
        if event.profile_id not in latest or event.time > latest[event.profile_id]:
            latest[event.profile_id] = event.time
    if not latest:
        return
    free = profiles.lock_unless_busy(session, account_id, list(latest))
    _raise(session, account_id, {pid: when for pid, when in latest.items() if pid in free})
    busy = {pid: when.isoformat() for pid, when in latest.items() if pid not in free}
    if busy:
        enqueue(session, RAISE_LAST_EVENT_DATE, {"last_event_date": busy}, account_id=account_id)


@job(RAISE_LAST_EVENT_DATE)
def raise_last_event_date(session: Session, context: JobContext) -> None:
    """last_event_date of profiles that were busy when their events were written: raise,
    waiting for the row locks (the job holds no others), and tell the profiles' listeners."""
    busy = context.payload["last_event_date"]
    latest = {pid: dt.datetime.fromisoformat(when) for pid, when in busy.items()}
    _raise(session, context.account_id, latest)
    profile_hooks.notify(session, context.account_id, list(latest), "last_event_date")


def _raise(session: Session, account_id: str, latest: dict[str, dt.datetime]) -> None:
    bulk_raise(
        session,
        PROFILES,
        [{"account_id": account_id, "id": pid, "last_event_date": when} for pid, when in latest.items()],
        keys=("account_id", "id"),
        column="last_event_date",
    )
