"""Background work of the delivery domain: the janitor of expired send leases, the processing
of stored bounces and complaints, and open and click hits turned into events."""

from __future__ import annotations

import datetime as dt

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.config import get_settings
from tidings.db.base import utcnow
from tidings.delivery import inbound, service, tracking_events
from tidings.delivery.tables import TrackingHit
from tidings.delivery.tracking_hits import TRACK_JOB, track_slot
from tidings.jobs.queue import enqueue
from tidings.jobs.registry import JobContext, job
from tidings.templates.links import instance_secret

JANITOR_JOB = "delivery.janitor"
JANITOR_SECONDS = 30
PRUNE_JOB = "delivery.prune_reports"
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


@job(inbound.PROCESS_JOB)
def process_bounce(session: Session, context: JobContext) -> None:
    """A stored bounce or complaint: find its send, apply its effects (once)."""
    secret = instance_secret(session, get_settings().secret_key)
    inbound.process(session, context.payload["report"], secret)


@job(PRUNE_JOB, every_seconds=3600)
def prune_reports(session: Session, context: JobContext) -> None:
    """Processed bounce and complaint reports past their retention (30 days)."""
    if inbound.prune(session, limit=BATCH) >= BATCH:
        enqueue(session, PRUNE_JOB, {"follow_up": True})


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


JOBS = (janitor, process_bounce, prune_reports, track, sweep_hits)
