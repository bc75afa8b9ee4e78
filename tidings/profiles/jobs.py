"""Background work of the profiles domain."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tidings.jobs.registry import JobContext, job
from tidings.profiles import privacy


@job("profiles.delete")
def delete_profile(session: Session, context: JobContext) -> None:
    privacy.delete_profile(session, context.account_id, context.payload["profile_id"])


JOBS = (delete_profile,)
