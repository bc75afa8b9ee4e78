"""The job queue's own jobs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from tidings.config import get_settings
from tidings.db.base import utcnow
from tidings.jobs import queue
from tidings.jobs.registry import JobContext, job


@job("jobs.prune", every_seconds=3600)
def prune_done_jobs(session: Session, context: JobContext) -> None:
    hours = get_settings().job_retention_hours
    queue.prune(session, utcnow() - dt.timedelta(hours=hours))


JOBS = (prune_done_jobs,)
