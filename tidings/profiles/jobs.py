"""Background work of the profiles domain."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from tidings.jobs.registry import JobContext, job
from tidings.profiles import privacy


@job("profiles.delete")
def delete_profile(session: Session, context: JobContext) -> None:
    privacy.delete_profile(session, context.account_id, context.payload["profile_id"])


# The event listener that keeps profiles' last_event_date current lives in service.py;
# importing it here registers it wherever jobs run (the event processor is a job).
from tidings.profiles import service  # noqa: E402


@job(service.RAISE_LAST_EVENT_DATE)
def raise_last_event_date(session: Session, context: JobContext) -> None:
    """last_event_date of profiles that were busy when their events were written."""
    busy = context.payload["last_event_date"]
    latest = {pid: dt.datetime.fromisoformat(when) for pid, when in busy.items()}
    service.raise_last_event_date(session, context.account_id, latest)
