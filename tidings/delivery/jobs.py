"""Background work of the delivery domain: the janitor of expired send leases; open and click
hits turned into events."""

from __future__ import annotations

import datetime as dt

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.delivery import service, tracking_events
from tidings.delivery.tables import TrackingHit
from tidings.delivery.tracking_hits import TRACK_JOB, track_slot
from tidings.jobs.queue import enqueue
from tidings.jobs.registry import JobContext, job

JANITOR_JOB = "delivery.janitor"
JANITOR_SECONDS = 30
BATCH = 500

log = structlog.get_logger("tidings.delivery")


@job(JANITOR_JOB, every_seconds=JANITOR_SECONDS)
def janitor(session: Session, context: JobContext) -> None:
    """Expired `sending` rows of every account: email resent, SMS and push left `unknown`.
    A full batch goes on in a follow-up job at once."""
    report = service.janitor(session, limit=BATCH)
    for expired in report.unknown:
        log.warning(
            "delivery.unknown", account=expired.account_id, send=expired.send_id, channel=expired.channel
        )
    if len(report.resent) + len(report.unknown) >= BATCH:
        enqueue(session, JANITOR_JOB, {"follow_up": True})


@job(TRACK_JOB)
def track(session: Session, context: JobContext) -> None:
    """One batch of the account's open and click hits into events; a full batch chains another."""
    batch = tracking_events.process_hits(session, context.account_id)
    if batch.more:
        enqueue(session, TRACK_JOB, account_id=context.account_id, dedup_key=f"more:{context.id}")


@job("delivery.sweep_hits", every_seconds=2)
def sweep_hits(session: Session, context: JobContext) -> None:
    """A safety net: hits whose job ran before they committed get another one."""
    stale = utcnow() - dt.timedelta(seconds=1)
    accounts = session.execute(
        select(TrackingHit.account_id).where(TrackingHit.received < stale).distinct()
    ).scalars()
    slot = track_slot()
    for account_id in accounts:
        enqueue(session, TRACK_JOB, account_id=account_id, dedup_key=f"sweep:{slot}")


JOBS = (janitor, track, sweep_hits)
