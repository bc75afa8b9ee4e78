"""Background work of the events domain: draining the inbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.events.ingest import processor
from tidings.events.ingest.inbox import PROCESS_JOB, process_slot
from tidings.events.ingest.tables import EventInbox
from tidings.jobs.queue import enqueue
from tidings.jobs.registry import JobContext, job

# How long after a job that applied rows its follow-up looks again (see process_inbox).
FOLLOW_UP = dt.timedelta(milliseconds=200)


@job(PROCESS_JOB)
def process_inbox(session: Session, context: JobContext) -> None:
    """Apply one batch of the account's inbox; if more is waiting, chain another job.

    A job that applied rows also leaves one follow-up a moment later: writers enqueue one job
    per account per 100 ms slot, so rows committed in a slot whose job has already run would
    otherwise wait for the inbox sweep (seconds). The follow-up applies them; one that finds
    nothing ends the chain."""
    result = processor.process_batch(session, context.account_id)
    if result.more:
        enqueue(session, PROCESS_JOB, account_id=context.account_id, dedup_key=f"more:{context.id}")
    elif result.rows:
        enqueue(
            session,
            PROCESS_JOB,
            account_id=context.account_id,
            dedup_key=f"after:{process_slot()}",
            run_at=utcnow() + FOLLOW_UP,
        )


@job("events.sweep_inbox", every_seconds=2)
def sweep_inbox(session: Session, context: JobContext) -> None:
    """A safety net: rows whose processing job already ran before they committed get a new one."""
    stale = utcnow() - dt.timedelta(seconds=1)
    accounts = session.execute(
        select(EventInbox.account_id).where(EventInbox.received < stale).distinct()
    ).scalars()
    slot = process_slot()
    for account_id in accounts:
        enqueue(session, PROCESS_JOB, account_id=account_id, dedup_key=f"sweep:{slot}")


JOBS = (process_inbox, sweep_inbox)
