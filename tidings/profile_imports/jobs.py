"""Background work of bulk profile import: applying a job chunk by chunk, pruning expired jobs."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.jobs import queue
from tidings.jobs.registry import JobContext, job
from tidings.profile_imports import service


@job(service.JOB)
def import_profiles(session: Session, context: JobContext) -> None:
    job_id = context.payload["job_id"]
    if service.run_job(session, context.account_id, job_id):
        # The next chunk is a new job run: one transaction per chunk, committed with the job row.
        queue.enqueue(session, service.JOB, {"job_id": job_id}, account_id=context.account_id)


@job("profiles.prune_imports", every_seconds=3600)
def prune_imports(session: Session, context: JobContext) -> None:
    service.prune_expired(session, utcnow())


JOBS = (import_profiles, prune_imports)
