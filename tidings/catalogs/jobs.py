"""Catalog background jobs: bulk jobs and scheduled feed syncs."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tidings.catalogs import bulk
from tidings.jobs.registry import JobContext, job


def _apply_bulk(session: Session, context: JobContext) -> None:
    bulk.apply(session, context.account_id, str(context.payload["job_id"]))


for _kind in bulk.KINDS:
    job(_kind.job_name)(_apply_bulk)
