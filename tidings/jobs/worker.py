"""Workers: threads that claim due jobs of their lane and run their handlers.

`tidings serve` starts them inside the server process; `tidings worker` runs them alone.
Any number of worker processes may share one database. Each worker has a heartbeat thread
that renews the leases of the jobs it holds while a handler runs, so a job may take longer
than its lease; a worker that stops renewing (it crashed or hung) loses its jobs to others.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import traceback
from collections.abc import Sequence

import structlog

from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.db.session import Database
from tidings.jobs import queue
from tidings.jobs.registry import HANDLERS, PERIODIC, JobContext
from tidings.jobs.tables import DEFAULT_LANE, NETWORK_LANE, Job

log = structlog.get_logger("tidings.jobs")


class Heartbeat:
    """Renews the leases of the jobs a worker holds, every third of a lease, each time in a
    short transaction of its own (a handler's transaction may stay open for long).

    A worker claims a batch; the jobs of it not yet started are renewed too, but once the
    running one has taken a beat, they are given back to the queue (not counted as attempts)
    rather than kept waiting behind it.
    """

    def __init__(self, db: Database, worker: str) -> None:
        self.db = db
        self.worker = worker
        self.lease_seconds: float = db.settings.job_lease_seconds
        self._lock = threading.Lock()
        self._running: Job | None = None
        self._running_since = 0.0
        self._waiting: list[Job] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, jobs: Sequence[Job], lease_seconds: float) -> None:
        with self._lock:
            self.lease_seconds = lease_seconds
            self._waiting = list(jobs)
        if jobs and self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"tidings-{self.worker}-heartbeat", daemon=True
            )
            self._thread.start()

    def next(self) -> Job | None:
        """The next held job to run (None: none left)."""
        with self._lock:
            self._running = self._waiting.pop(0) if self._waiting else None
            self._running_since = time.monotonic()
            return self._running

    def drop(self) -> None:
        with self._lock:
            self._running, self._waiting = None, []

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self.lease_seconds / 3):
            try:
                self.beat()
            except Exception:  # the database is away: try again at the next beat
                log.warning("job.heartbeat_failed", worker=self.worker, exc_info=True)

    def beat(self) -> None:
        """Renew what is held. The renewals run without the lock (on SQLite the beat may wait for
        the handler's own transaction); a failed one means a lost lease only if the job is
        still held afterwards, not settled by its worker meanwhile."""
        with self._lock:
            running, waiting = self._running, list(self._waiting)
            slow = running is not None and time.monotonic() - self._running_since >= self.lease_seconds / 3
            if slow and waiting:  # under the lock: none of them may start meanwhile
                with self.db.write() as session:
                    for job in waiting:
                        queue.release(session, job)
                self._waiting = waiting = []
        held = [job for job in [running, *waiting] if job is not None]
        if not held:
            return
        with self.db.write() as session:
            failed = [job for job in held if not queue.renew(session, job, self.lease_seconds)]
        with self._lock:
            for job in failed:
                if job is self._running:  # its handler goes on, and rolls back at its end
                    self._running = None
                elif job in self._waiting:
                    self._waiting.remove(job)
                else:
                    continue
                log.warning(
                    "job.lease_lost", job=job.name, job_id=job.id, attempt=job.attempts, worker=self.worker
                )


class Worker:
    def __init__(
        self,
        db: Database,
        *,
        index: int = 0,
        batch: int = 10,
        lane: str | None = DEFAULT_LANE,
        settings: Settings | None = None,
    ) -> None:
        self.db = db
        self.settings = settings or db.settings
        self.lane = lane  # None: every lane (`drain`)
        self.name = f"{socket.gethostname()}:{os.getpid()}:{lane or 'any'}:{index}"
        self.batch = batch
        self.heartbeat = Heartbeat(db, self.name)
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
        self.heartbeat.stop()

    def run_forever(self) -> None:
        log.info("worker.started", worker=self.name, lane=self.lane)
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
        """Claim one batch and run it; returns how many jobs were claimed."""
        lease = self.settings.job_lease_seconds
        with self.db.write() as session:
            jobs = queue.claim(session, self.name, limit=self.batch, lease_seconds=lease, lane=self.lane)
            session.expunge_all()
        self.heartbeat.hold(jobs, lease)
        try:
            while (job := self.heartbeat.next()) is not None:
                self.run_job(job)
        finally:
            self.heartbeat.drop()
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
                queue.complete(session, job)
        except queue.LeaseLost:
            # Rolled back: the job's new holder runs it and settles it.
            log.warning("job.lease_lost", job=job.name, job_id=job.id, attempt=job.attempts, worker=self.name)
            return
        except Exception as exc:
            log.warning("job.failed", job=job.name, job_id=job.id, attempt=job.attempts, error=repr(exc))
            with self.db.write() as session:
                queue.fail(session, job, traceback.format_exc())
            return
        log.debug("job.done", job=job.name, job_id=job.id, ms=round((time.monotonic() - started) * 1000, 1))


def lane_workers(db: Database, counts: dict[str, int], settings: Settings | None = None) -> list[Worker]:
    """So many workers for each lane, not started yet."""
    return [
        Worker(db, index=i, lane=lane, settings=settings)
        for lane, count in counts.items()
        for i in range(count)
    ]


def serving_workers(db: Database, settings: Settings, workers: int | None = None) -> list[Worker]:
    """The in-process workers of `tidings serve`: none when TIDINGS_WORKERS (or `workers`) is 0,
    else that many for the default lane and TIDINGS_NETWORK_WORKERS for the network lane."""
    count = settings.workers if workers is None else workers
    if not count:
        return []
    return lane_workers(db, {DEFAULT_LANE: count, NETWORK_LANE: settings.network_workers}, settings)


def drain(db: Database, *, max_rounds: int = 1000) -> int:
    """Run due jobs of every lane until none is left (tests and the CLI use this)."""
    worker = Worker(db, index=0, lane=None)
    total = 0
    try:
        for _ in range(max_rounds):
            ran = worker.run_once()
            total += ran
            if not ran:
                break
    finally:
        worker.stop()
    return total
