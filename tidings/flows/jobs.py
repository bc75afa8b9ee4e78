"""Background work of flows: `flows.advance`, every second and whenever runs are entered, and
`flows.webhook`, one per webhook action a run reaches (tidings/flows/webhook.py).

One job is one short transaction: the segment flows' new entries from the change log, then one
batch of due runs (tidings/flows/executor.py). A full batch asks for a follow-up job at once, so
a backlog drains batch after batch (in parallel on PostgreSQL, where claims skip locked runs).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.flows import entry, executor, webhook
from tidings.jobs.queue import enqueue
from tidings.jobs.registry import JobContext, job

ADVANCE_SECONDS = 1


@job(entry.ADVANCE_JOB, every_seconds=ADVANCE_SECONDS)
def advance(session: Session, context: JobContext) -> None:
    now = utcnow()
    entry.scan_segments(session, now)
    if executor.advance(session, now=now) >= executor.BATCH:
        enqueue(session, entry.ADVANCE_JOB, {"follow_up": True}, max_attempts=3)


@job(webhook.WEBHOOK_JOB)
def send_webhook(session: Session, context: JobContext) -> None:
    webhook.send(session, context)


JOBS = (advance, send_webhook)
