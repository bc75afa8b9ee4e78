"""Which import jobs touched a profile, through a merge, an unmerge and a privacy deletion."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tidings.profile_imports import repository
from tidings.profiles.participants import ProfileParticipant


def move(
    session: Session, account_id: str, source_id: str, destination_id: str, merge_id: str
) -> dict[str, Any]:
    jobs = repository.jobs_of_profile(session, account_id, source_id)
    had = set(repository.jobs_of_profile(session, account_id, destination_id))
    repository.link_jobs(session, account_id, destination_id, jobs)
    repository.unlink_jobs(session, account_id, source_id)
    return {"jobs": jobs, "gained": [job_id for job_id in jobs if job_id not in had]}


def restore(
    session: Session,
    account_id: str,
    source_id: str,
    destination_id: str,
    record: dict[str, Any],
    merge_id: str,
) -> None:
    repository.link_jobs(session, account_id, source_id, list(record.get("jobs", [])))
    gained = list(record.get("gained", []))
    if gained:
        repository.unlink_jobs(session, account_id, destination_id, gained)


def delete(session: Session, account_id: str, profile_id: str) -> None:
    repository.unlink_jobs(session, account_id, profile_id)


IMPORT_JOBS = ProfileParticipant("import_jobs", move, restore, delete)
