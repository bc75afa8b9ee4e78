"""Web feed jobs: the sweep that queues due refreshes, and the refresh (network lane)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tidings.config import get_settings
from tidings.db.base import utcnow
from tidings.jobs.registry import JobContext, job
from tidings.web_feeds import service


@job("web_feeds.sweep", every_seconds=60)
def enqueue_due_feeds(session: Session, context: JobContext) -> None:
    service.enqueue_due(session, get_settings(), utcnow())


@job(service.REFRESH_JOB)
def refresh_feed(session: Session, context: JobContext) -> None:
    service.refresh(session, get_settings(), context.account_id, context.payload)


JOBS = (enqueue_due_feeds, refresh_feed)
