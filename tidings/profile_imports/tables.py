"""Bulk import jobs, their pending profiles, their errors and the profiles they touched."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, JSONType, UTCDateTime, utcnow

QUEUED = "queued"
PROCESSING = "processing"
COMPLETE = "complete"


class ProfileImportJob(Base):
    """A `profile-bulk-import-job` (its counts are the spec's: completed = applied, failed = errors)."""

    __tablename__ = "profile_import_jobs"
    __table_args__ = (
        Index("ix_profile_import_jobs_account_id_created_at", "account_id", "created_at"),
        Index("ix_profile_import_jobs_expires_at", "expires_at"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    list_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    total_count: Mapped[int] = mapped_column(Integer, default=0)
    completed_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ProfileImportItem(Base):
    """One profile of a job, as sent, not applied yet (the durable payload; deleted once applied)."""

    __tablename__ = "profile_import_items"

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)  # index in profiles.data
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)


class ProfileImportError(Base):
    """An `import-error`: one profile of a job that could not be applied, and why."""

    __tablename__ = "profile_import_errors"

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(26))
    code: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(255))
    detail: Mapped[str] = mapped_column(Text)
    pointer: Mapped[str] = mapped_column(String(255))
    original_payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)


class ProfileImportProfile(Base):
    """A profile a job created or updated (the job's `profiles` relationship)."""

    __tablename__ = "profile_import_profiles"
    __table_args__ = (Index("ix_profile_import_profiles_account_id_profile_id", "account_id", "profile_id"),)

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(26), primary_key=True)


JOBS: Table = ProfileImportJob.__table__  # type: ignore[assignment]
ITEMS: Table = ProfileImportItem.__table__  # type: ignore[assignment]
ERRORS: Table = ProfileImportError.__table__  # type: ignore[assignment]
JOB_PROFILES: Table = ProfileImportProfile.__table__  # type: ignore[assignment]
