"""Enqueue, claim and settle jobs.

`enqueue` adds a row in the caller's transaction, so the job exists if and only if the
change that caused it committed. Workers claim due jobs with a lease; a job whose worker
died is claimed again when its lease runs out. A handler's writes and the job's completion
commit together, so a job's effects are applied once.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, event, func, or_, select, update
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.dialect import insert_ignore, skip_locked
from tidings.db.ids import ulid
from tidings.jobs.tables import DONE, FAILED, QUEUED, RUNNING, SYSTEM_ACCOUNT, Job

# Set after a commit that enqueued work, so in-process workers wake at once.
wakeup = threading.Event()


@event.listens_for(Session, "after_commit")
def _wake_workers(session: Session) -> None:
    if session.info.pop("jobs_enqueued", False):
        wakeup.set()


def enqueue(
    session: Session,
    name: str,
    payload: dict[str, Any] | None = None,
    *,
    account_id: str = SYSTEM_ACCOUNT,
    run_at: dt.datetime | None = None,
    dedup_key: str | None = None,
    max_attempts: int = 10,
) -> str:
    """Add a job to the caller's transaction. With `dedup_key`, a second enqueue is a no-op."""
    job_id = ulid()
    now = utcnow()
    row = {
        "account_id": account_id,
        "id": job_id,
        "name": name,
        "payload": payload or {},
        "status": QUEUED,
        "dedup_key": dedup_key,
        "attempts": 0,
        "max_attempts": max_attempts,
        "run_at": run_at or now,
        "created": now,
    }
    session.execute(insert_ignore(session, Job.__table__, row))  # type: ignore[arg-type]
    session.info["jobs_enqueued"] = True
    return job_id


def claim(session: Session, worker: str, *, limit: int, lease_seconds: int) -> list[Job]:
    now = utcnow()
    due = or_(
        (Job.status == QUEUED) & (Job.run_at <= now),
        (Job.status == RUNNING) & (Job.locked_until < now),
    )
    stmt = skip_locked(session, select(Job).where(due).order_by(Job.run_at).limit(limit))
    jobs = list(session.execute(stmt).scalars())
    for job in jobs:
        job.status = RUNNING
        job.locked_by = worker
        job.locked_until = now + dt.timedelta(seconds=lease_seconds)
        job.attempts += 1
    session.flush()
    return jobs


def complete(session: Session, job: Job, worker: str) -> bool:
    """Mark done, only if the lease is still ours (else the caller rolls back its work)."""
    result = session.execute(
        update(Job)
        .where(
            Job.account_id == job.account_id, Job.id == job.id, Job.locked_by == worker, Job.status == RUNNING
        )
        .values(status=DONE, finished_at=utcnow(), locked_until=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def backoff_seconds(attempt: int) -> float:
    base: float = min(2.0**attempt, 3600.0)
    return base * random.uniform(0.75, 1.25)


def fail(session: Session, job: Job, worker: str, error: str) -> None:
    """Record a failure: retry later with backoff, or give up after max_attempts."""
    current = session.get(Job, (job.account_id, job.id))
    if current is None or current.locked_by != worker:
        return
    current.last_error = error[-4000:]
    current.locked_until = None
    if current.attempts >= current.max_attempts:
        current.status = FAILED
        current.finished_at = utcnow()
    else:
        current.status = QUEUED
        current.run_at = utcnow() + dt.timedelta(seconds=backoff_seconds(current.attempts))


def enqueue_periodic(session: Session, schedules: Sequence[tuple[str, int]], now: dt.datetime) -> None:
    """One job per schedule slot, however many workers ask (the dedup key makes it idempotent)."""
    for name, every in schedules:
        slot = int(now.timestamp()) // every
        enqueue(session, name, {"slot": slot}, dedup_key=f"slot:{slot}", max_attempts=3)


def prune(session: Session, older_than: dt.datetime) -> int:
    result = session.execute(delete(Job).where(Job.status == DONE, Job.finished_at < older_than))
    return int(result.rowcount)  # type: ignore[attr-defined]


def queue_stats(session: Session) -> list[tuple[str, str, int, dt.datetime | None]]:
    """(name, status, count, oldest run_at) for jobs not done."""
    rows = session.execute(
        select(Job.name, Job.status, func.count(), func.min(Job.run_at))
        .where(Job.status != DONE)
        .group_by(Job.name, Job.status)
    )
    return [(name, status, int(count), oldest) for name, status, count, oldest in rows]


def get_job(session: Session, account_id: str, job_id: str) -> Job | None:
    return session.get(Job, (account_id, job_id))
