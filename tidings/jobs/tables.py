from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, JSONType, UTCDateTime, utcnow

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
DEAD = "dead"  # out of attempts: kept with its last error until someone retries or deletes it

DEFAULT_LANE = "default"
NETWORK_LANE = "network"  # outbound fetches: a slow server never holds up the default lane
LANES = (DEFAULT_LANE, NETWORK_LANE)

SYSTEM_ACCOUNT = ""  # jobs that belong to no account (pruning, schedules)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("account_id", "name", "dedup_key"),
        Index("ix_jobs_claim", "lane", "status", "run_at"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    lane: Mapped[str] = mapped_column(String(20), default=DEFAULT_LANE, server_default=DEFAULT_LANE)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(10), default=QUEUED)
    dedup_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # claims so far, this one included
    max_attempts: Mapped[int] = mapped_column(Integer, default=10)
    run_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A new token with every claim: only the holder of the current one may renew, settle or
    # commit the job's effects (a worker that lost its lease is fenced off).
    lease_token: Mapped[str | None] = mapped_column(String(26), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
