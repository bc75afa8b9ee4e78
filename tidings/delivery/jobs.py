"""Background work of the delivery domain: the janitor of expired send leases."""

from __future__ import annotations

import structlog
from sqlalchemy.orm import Session

from tidings.delivery import service
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


JOBS = (janitor,)
