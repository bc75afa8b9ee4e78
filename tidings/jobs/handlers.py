"""Built-in jobs, and the import that registers every domain's jobs."""

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


def register_all() -> None:
    """Import each domain's jobs module so its handlers are registered."""
    # Each domain's `jobs` module registers its handlers when imported.
    import tidings.consent.jobs
    import tidings.events.ingest.jobs
    import tidings.profiles.imports.jobs
    import tidings.profiles.jobs
    import tidings.segments.jobs  # noqa: F401
    from tidings.catalogs import jobs as catalogs  # noqa: F401
