"""Coupon background jobs: bulk creation of codes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tidings.coupons import service
from tidings.jobs.registry import JobContext, job


@job(service.BULK_JOB)
def bulk_create_codes(session: Session, context: JobContext) -> None:
    service.apply_bulk_job(session, context.account_id, str(context.payload["job_id"]))


JOBS = (bulk_create_codes,)
