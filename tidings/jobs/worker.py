"""Workers: threads that claim due jobs and run their handlers.

`tidings serve` starts them inside the server process; `tidings worker` runs them alone.
Any number of worker processes may share one database.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import traceback

import structlog

from tidings.db.base import utcnow
from tidings.db.session import Database
from tidings.jobs import queue
from tidings.jobs.registry import HANDLERS, PERIODIC, JobContext
from tidings.jobs.tables import Job

log = structlog.get_logger("tidings.jobs")


class Worker:
    def __init__(self, db: Database, *, index: int = 0, batch: int = 10) -> None:
        self.db = db
        self.settings = db.settings
        self.name = f"{socket.gethostname()}:{os.getpid()}:{index}"
        self.batch = batch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_schedule = 0.0

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name=f"tidings-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        queue.wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_forever(self) -> None:
        log.info("worker.started", worker=self.name)
        while not self._stop.is_set():
            try:
                self.schedule()
                ran = self.run_once()
            except Exception:
                log.exception("worker.loop_failed", worker=self.name)
                ran = 0
            if not ran:
                queue.wakeup.wait(self.settings.job_poll_interval)
                queue.wakeup.clear()
        log.info("worker.stopped", worker=self.name)

    def schedule(self) -> None:
        if not PERIODIC or time.monotonic() - self._last_schedule < 1.0:
            return
        self._last_schedule = time.monotonic()
        with self.db.write() as session:
            queue.enqueue_periodic(session, [(p.name, p.every_seconds) for p in PERIODIC.values()], utcnow())

    def run_once(self) -> int:
        """Claim one batch and run it; returns how many jobs ran."""
        with self.db.write() as session:
            jobs = queue.claim(
                session, self.name, limit=self.batch, lease_seconds=self.settings.job_lease_seconds
            )
            session.expunge_all()
        for job in jobs:
            self.run_job(job)
        return len(jobs)

    def run_job(self, job: Job) -> None:
        handler = HANDLERS.get(job.name)
        context = JobContext(job.id, job.account_id, job.name, dict(job.payload or {}), job.attempts)
        started = time.monotonic()
        try:
            if handler is None:
                raise LookupError(f"no handler registered for job {job.name!r}")
            with self.db.write() as session:
                handler(session, context)
                if not queue.complete(session, job, self.name):
                    raise RuntimeError("lease lost: another worker owns this job now")
        except Exception as exc:
            log.warning("job.failed", job=job.name, job_id=job.id, attempt=job.attempts, error=repr(exc))
            with self.db.write() as session:
                queue.fail(session, job, self.name, traceback.format_exc())
            return
        log.debug("job.done", job=job.name, job_id=job.id, ms=round((time.monotonic() - started) * 1000, 1))


def drain(db: Database, *, max_rounds: int = 1000) -> int:
    """Run due jobs until none is left (tests and the CLI use this)."""
    worker = Worker(db, index=0)
    total = 0
    for _ in range(max_rounds):
        ran = worker.run_once()
        total += ran
        if not ran:
            break
    return total
