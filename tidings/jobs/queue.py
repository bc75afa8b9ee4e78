"""Enqueue, claim, renew and settle jobs.

`enqueue` adds a row in the caller's transaction, so the job exists if and only if the
change that caused it committed. A worker claims due jobs with a lease and a fresh lease
token, and renews the lease while the job runs (`renew`, from its heartbeat). A job whose
worker stopped renewing is claimed again once its lease runs out; every claim counts as an
attempt, and a job out of attempts is dead-lettered (`dead`, with its last error) instead.
`complete`, `fail` and `renew` act only for the holder of the current token, and a handler's
writes commit in the same transaction as `complete`: a worker that lost its lease cannot
mark the job done or commit effects over a newer holder, so a job's effects commit once.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy import delete, event, func, or_, select, update
from sqlalchemy.orm import Session

from tidings.config import get_settings
from tidings.db.base import utcnow
from tidings.db.dialect import insert_ignore, skip_locked
from tidings.db.ids import ulid
from tidings.jobs.tables import DEAD, DEFAULT_LANE, DONE, QUEUED, RUNNING, SYSTEM_ACCOUNT, Job

log = structlog.get_logger("tidings.jobs")

# Set after a commit that enqueued work, so in-process workers wake at once.
wakeup = threading.Event()


class LeaseLost(RuntimeError):
    """The job's lease passed to another worker: this one must roll back its work."""


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
    max_attempts: int | None = None,
    lane: str = DEFAULT_LANE,
) -> str:
    """Add a job to the caller's transaction. With `dedup_key`, a second enqueue is a no-op.
    `max_attempts`: claims before it is dead-lettered (default TIDINGS_JOB_MAX_ATTEMPTS).
    `lane`: the queue it waits in (`network` for work that waits on other servers)."""
    job_id = ulid()
    now = utcnow()
    row = {
        "account_id": account_id,
        "id": job_id,
        "name": name,
        "lane": lane,
        "payload": payload or {},
        "status": QUEUED,
        "dedup_key": dedup_key,
        "attempts": 0,
        "max_attempts": max_attempts or get_settings().job_max_attempts,
        "run_at": run_at or now,
        "created": now,
    }
    session.execute(insert_ignore(session, Job.__table__, row))  # type: ignore[arg-type]
    session.info["jobs_enqueued"] = True
    return job_id


def claim(
    session: Session, worker: str, *, limit: int, lease_seconds: float, lane: str | None = None
) -> list[Job]:
    """Take up to `limit` due jobs of `lane` (None: any lane). A job whose lease ran out on its
    last attempt is dead-lettered here rather than run again."""
    now = utcnow()
    due = or_(
        (Job.status == QUEUED) & (Job.run_at <= now),
        (Job.status == RUNNING) & (Job.locked_until < now),
    )
    query = select(Job).where(due)
    if lane is not None:
        query = query.where(Job.lane == lane)
    rows = list(session.execute(skip_locked(session, query.order_by(Job.run_at).limit(limit))).scalars())
    claimed = []
    for job in rows:
        if job.status == RUNNING:
            job.last_error = (
                f"attempt {job.attempts}: the lease ran out (its worker {job.locked_by} stopped "
                "renewing it: it crashed, hung or lost the database)"
            )
            if job.attempts >= job.max_attempts:
                _bury(job, now)
                continue
        job.status = RUNNING
        job.locked_by = worker
        job.locked_until = now + dt.timedelta(seconds=lease_seconds)
        job.lease_token = ulid()
        job.attempts += 1
        claimed.append(job)
    session.flush()
    return claimed


def _held(job: Job) -> Any:
    """The condition that the claim `job` was read from still holds the job."""
    return (
        (Job.account_id == job.account_id)
        & (Job.id == job.id)
        & (Job.lease_token == job.lease_token)
        & (Job.status == RUNNING)
    )


def renew(session: Session, job: Job, lease_seconds: float) -> bool:
    """Extend the lease of a job still held; False when it passed to another worker."""
    result = session.execute(
        update(Job).where(_held(job)).values(locked_until=utcnow() + dt.timedelta(seconds=lease_seconds))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def complete(session: Session, job: Job) -> None:
    """Mark done in the handler's transaction; raises LeaseLost (the caller rolls back its work)
    when the lease is no longer this claim's. On PostgreSQL the row lock this takes orders it
    with a concurrent claim: whichever comes second sees the other's outcome."""
    result = session.execute(
        update(Job).where(_held(job)).values(status=DONE, finished_at=utcnow(), locked_until=None)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise LeaseLost(f"job {job.name} {job.id}: attempt {job.attempts} lost its lease")


def release(session: Session, job: Job) -> bool:
    """Give back a claimed job not yet started: queued again, the claim not counted."""
    result = session.execute(
        update(Job)
        .where(_held(job))
        .values(status=QUEUED, attempts=Job.attempts - 1, locked_by=None, locked_until=None, lease_token=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def backoff_seconds(attempt: int) -> float:
    base: float = min(2.0**attempt, 3600.0)
    return base * random.uniform(0.75, 1.25)


def fail(session: Session, job: Job, error: str) -> str | None:
    """Record a failure of a claim still held: retry later with backoff, or dead-letter the job
    after its last attempt. Returns the new status (None: the lease had passed on)."""
    now = utcnow()
    values: dict[str, Any] = {"last_error": error[-4000:], "locked_until": None, "lease_token": None}
    if job.attempts >= job.max_attempts:
        values.update(status=DEAD, finished_at=now)
    else:
        values.update(status=QUEUED, run_at=now + dt.timedelta(seconds=backoff_seconds(job.attempts)))
    result = session.execute(update(Job).where(_held(job)).values(**values))
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    if values["status"] == DEAD:
        _log_dead(job, error)
    return str(values["status"])


def _bury(job: Job, now: dt.datetime) -> None:
    job.status = DEAD
    job.finished_at = now
    job.locked_until = None
    job.lease_token = None
    _log_dead(job, job.last_error or "")


def _log_dead(job: Job, error: str) -> None:
    log.error(
        "job.dead",
        job=job.name,
        job_id=job.id,
        account=job.account_id,
        attempts=job.attempts,
        error=error.strip().splitlines()[-1][:500] if error.strip() else "",
    )


def retry(session: Session, account_id: str, job_id: str) -> bool:
    """Queue a dead job again with all its attempts (the `tidings jobs retry` command)."""
    result = session.execute(
        update(Job)
        .where(Job.account_id == account_id, Job.id == job_id, Job.status == DEAD)
        .values(status=QUEUED, attempts=0, run_at=utcnow(), finished_at=None, locked_by=None)
    )
    if result.rowcount:  # type: ignore[attr-defined]
        session.info["jobs_enqueued"] = True
    return bool(result.rowcount)  # type: ignore[attr-defined]


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


def list_jobs(
    session: Session, statuses: Sequence[str], *, account_id: str | None = None, limit: int = 50
) -> list[Job]:
    """Jobs in these states, the most recent first (`tidings jobs list`)."""
    query = select(Job).where(Job.status.in_(statuses))
    if account_id is not None:
        query = query.where(Job.account_id == account_id)
    return list(session.execute(query.order_by(Job.created.desc(), Job.id.desc()).limit(limit)).scalars())


def get_job(session: Session, account_id: str, job_id: str) -> Job | None:
    return session.get(Job, (account_id, job_id))
