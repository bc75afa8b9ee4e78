"""Queries on bulk import jobs, their pending profiles, errors and touched profiles."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from tidings.db.dialect import bulk_insert, insert_ignore
from tidings.jsonapi.filters import FilterField
from tidings.profile_imports.tables import (
    ERRORS,
    ITEMS,
    JOB_PROFILES,
    ProfileImportError,
    ProfileImportItem,
    ProfileImportJob,
    ProfileImportProfile,
)
from tidings.profiles.tables import Profile

JOB_FILTERS: dict[str, FilterField] = {"status": FilterField(ProfileImportJob.status)}
JOB_SORTS = {"created_at": ProfileImportJob.created_at}


def get_job(session: Session, account_id: str, job_id: str, *, lock: bool = False) -> ProfileImportJob | None:
    stmt = select(ProfileImportJob).where(
        ProfileImportJob.account_id == account_id, ProfileImportJob.id == job_id
    )
    if lock:
        stmt = stmt.with_for_update()
    return session.execute(stmt.execution_options(populate_existing=True)).scalars().first()


def jobs_query(account_id: str) -> Select[Any]:
    return select(ProfileImportJob).where(ProfileImportJob.account_id == account_id)


def add_items(session: Session, account_id: str, job_id: str, profiles: list[dict[str, Any]]) -> None:
    rows = [
        {"account_id": account_id, "job_id": job_id, "position": position, "payload": payload}
        for position, payload in enumerate(profiles)
    ]
    for start in range(0, len(rows), 2000):
        bulk_insert(session, ITEMS, rows[start : start + 2000])


def next_items(
    session: Session, account_id: str, job_id: str, limit: int
) -> list[tuple[int, dict[str, Any]]]:
    stmt = (
        select(ProfileImportItem.position, ProfileImportItem.payload)
        .where(ProfileImportItem.account_id == account_id, ProfileImportItem.job_id == job_id)
        .order_by(ProfileImportItem.position)
        .limit(limit)
    )
    return [(position, payload) for position, payload in session.execute(stmt)]


def delete_items(session: Session, account_id: str, job_id: str, *, through: int) -> None:
    session.execute(
        delete(ProfileImportItem).where(
            ProfileImportItem.account_id == account_id,
            ProfileImportItem.job_id == job_id,
            ProfileImportItem.position <= through,
        )
    )


def add_errors(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        bulk_insert(session, ERRORS, rows)


def add_job_profiles(session: Session, account_id: str, job_id: str, profile_ids: list[str]) -> None:
    rows = [
        {"account_id": account_id, "job_id": job_id, "profile_id": pid} for pid in dict.fromkeys(profile_ids)
    ]
    for start in range(0, len(rows), 1000):
        session.execute(insert_ignore(session, JOB_PROFILES, rows[start : start + 1000]))


def errors_query(account_id: str, job_id: str) -> Select[Any]:
    return select(ProfileImportError).where(
        ProfileImportError.account_id == account_id, ProfileImportError.job_id == job_id
    )


def job_profiles_query(account_id: str, job_id: str) -> Select[Any]:
    return (
        select(Profile)
        .join(
            ProfileImportProfile,
            (ProfileImportProfile.account_id == Profile.account_id)
            & (ProfileImportProfile.profile_id == Profile.id),
        )
        .where(ProfileImportProfile.account_id == account_id, ProfileImportProfile.job_id == job_id)
    )


def expired_jobs(session: Session, now: dt.datetime, limit: int) -> list[tuple[str, str]]:
    stmt = (
        select(ProfileImportJob.account_id, ProfileImportJob.id)
        .where(ProfileImportJob.expires_at < now)
        .order_by(ProfileImportJob.expires_at)
        .limit(limit)
    )
    return [(account_id, job_id) for account_id, job_id in session.execute(stmt)]


def delete_job(session: Session, account_id: str, job_id: str) -> None:
    for table in (ProfileImportItem, ProfileImportError, ProfileImportProfile):
        session.execute(delete(table).where(table.account_id == account_id, table.job_id == job_id))
    session.execute(
        delete(ProfileImportJob).where(
            ProfileImportJob.account_id == account_id, ProfileImportJob.id == job_id
        )
    )


# ------------------------------------------------------------------ the profiles a job touched


def jobs_of_profile(session: Session, account_id: str, profile_id: str) -> list[str]:
    stmt = select(ProfileImportProfile.job_id).where(
        ProfileImportProfile.account_id == account_id, ProfileImportProfile.profile_id == profile_id
    )
    return list(session.execute(stmt).scalars())


def link_jobs(session: Session, account_id: str, profile_id: str, job_ids: list[str]) -> None:
    if job_ids:
        rows = [{"account_id": account_id, "job_id": job_id, "profile_id": profile_id} for job_id in job_ids]
        session.execute(insert_ignore(session, JOB_PROFILES, rows))


def unlink_jobs(session: Session, account_id: str, profile_id: str, job_ids: list[str] | None = None) -> None:
    stmt = delete(ProfileImportProfile).where(
        ProfileImportProfile.account_id == account_id, ProfileImportProfile.profile_id == profile_id
    )
    if job_ids is not None:
        stmt = stmt.where(ProfileImportProfile.job_id.in_(job_ids))
    session.execute(stmt)


def count_items(session: Session, account_id: str, job_id: str) -> int:
    stmt = select(func.count()).where(
        ProfileImportItem.account_id == account_id, ProfileImportItem.job_id == job_id
    )
    return int(session.execute(stmt).scalar_one())
