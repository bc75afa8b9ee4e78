"""Background work of the consent domain: bulk subscribe and unsubscribe."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tidings.consent import bulk, suppression_jobs
from tidings.jobs.registry import JobContext, job


@job("consent.bulk_subscribe")
def bulk_subscribe(session: Session, context: JobContext) -> None:
    bulk.apply_subscribe(session, context.account_id, context.payload)


@job("consent.bulk_unsubscribe")
def bulk_unsubscribe(session: Session, context: JobContext) -> None:
    bulk.apply_unsubscribe(session, context.account_id, context.payload)


@job("consent.bulk_suppress")
def bulk_suppress(session: Session, context: JobContext) -> None:
    suppression_jobs.run_job(session, context.account_id, context.payload["job_id"])


@job("consent.bulk_unsuppress")
def bulk_unsuppress(session: Session, context: JobContext) -> None:
    suppression_jobs.run_job(session, context.account_id, context.payload["job_id"])


JOBS = (bulk_subscribe, bulk_unsubscribe, bulk_suppress, bulk_unsuppress)
