"""Recording open and click hits: a group-commit writer, so a redirect costs no transaction.

Why a hits table and not an event per request, nor the events inbox:
- An event written per request would be a transaction (and an fsync) per click, plus the
  metric lookups and the segment and flow listeners of `write_events`: far from 3,000
  redirects a second on two cores.
- The events inbox group-commits, but its processor resolves a profile from identifiers and
  knows nothing of the ledger; an open or a click needs the ledger row (its profile, its
  `$message`, `Campaign Name` or `$flow`, `Subject`, the time it was sent, to tell a machine
  from a person), which only delivery may read.
So each process group-commits its hits: every hit that arrived while the previous write was
under way goes into `tracking_hits` in one statement, committed once; a request is answered only
after the commit that holds its hit, so a hit once answered is on disk. The account's
`delivery.track` job (one per account per 100 ms slot, and a sweep every 2 s as a safety net)
turns hits into `Opened Email` / `Clicked Email` events in batches (`tracking_events`): the
events carry `unique_id` = the hit's id and the hits are deleted in the transaction that writes
them, so a job that runs twice, or dies half way, records each hit once.

On PostgreSQL the writer is a task on the server's event loop with its own asyncio connection
(psycopg, autocommit: one `INSERT ... SELECT FROM unnest(...)` is one round trip and one
commit). A writer thread, as the events inbox has, measured a third of the throughput here: each
commit needs the GIL back several times from an event loop that is busy answering, and under load
each hand-over waits for the interpreter's switch interval. On SQLite (one writer, no network)
the thread is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from concurrent.futures import Future
from typing import Any

import structlog
from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tidings.db.dialect import bulk_insert
from tidings.db.session import Database
from tidings.delivery.tables import TrackingHit
from tidings.jobs import queue as jobs

log = structlog.get_logger("tidings.delivery")

TRACK_JOB = "delivery.track"
MAX_ROWS_PER_COMMIT = 5000
LANES = 2  # PostgreSQL connections a process writes hits on at once
HITS = TrackingHit.__table__

Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"] | Future[None]


def track_slot(now: float | None = None) -> str:
    """One job per account per 100 ms: a job takes everything pending."""
    return f"slot:{int((now or time.time()) * 10)}"


class HitWriter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._connection: Connection | None = None
        self._enqueued: set[tuple[str, str]] = set()
        self._queue: queue.Queue[tuple[dict[str, Any], Waiter]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._flushers: dict[asyncio.AbstractEventLoop, AsyncFlusher] = {}
        self.commits = 0
        self.rows = 0

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stopping.clear()
                self._thread = threading.Thread(target=self._run, name="tidings-hit-writer", daemon=True)
                self._thread.start()

    def enqueue_job(self, account_id: str, slot: str) -> None:
        """The account's processing job for this slot, in a transaction of its own (the async
        writer's hits are already committed; a job that finds none is harmless)."""
        if (account_id, slot) in self._enqueued:
            return
        with self.db.write() as session:
            jobs.enqueue(session, TRACK_JOB, account_id=account_id, dedup_key=slot)
        with self._lock:
            self._enqueued = {pair for pair in self._enqueued if pair[1] == slot}
            self._enqueued.add((account_id, slot))

    def stop(self, timeout: float = 10.0) -> None:
        for flusher in list(self._flushers.values()):
            flusher.close()
        self._flushers.clear()
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def submit(self, row: dict[str, Any]) -> Future[None]:
        """Queue a hit for the next commit; the future completes once it is durable."""
        future: Future[None] = Future()
        self._put(row, future)
        return future

    async def write(self, row: dict[str, Any]) -> None:
        """Queue a hit and wait until it is durable."""
        if self.db.dialect == "postgresql":
            loop = asyncio.get_running_loop()
            flusher = self._flushers.get(loop)
            if flusher is None:
                flusher = self._flushers[loop] = AsyncFlusher(self)
            await flusher.write(row)
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._put(row, (loop, waiter))
        await waiter

    def _put(self, row: dict[str, Any], waiter: Waiter) -> None:
        if self._thread is None or not self._thread.is_alive():
            self.start()
        self._queue.put((row, waiter))

    def _run(self) -> None:
        while not (self._stopping.is_set() and self._queue.empty()):
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            pending = [first]
            while len(pending) < MAX_ROWS_PER_COMMIT:
                try:
                    pending.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            error: Exception | None = None
            try:
                self._commit([row for row, _ in pending])
            except Exception as exc:
                log.exception("tracking.commit_failed", rows=len(pending))
                error = exc
            _settle([waiter for _, waiter in pending], error)
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _commit(self, rows: list[dict[str, Any]]) -> None:
        slot = track_slot()
        enqueue = [a for a in {r["account_id"] for r in rows} if (a, slot) not in self._enqueued]
        if self._connection is None:
            self._connection = self.db.write_connection()
        session = Session(self._connection, expire_on_commit=False)
        try:
            bulk_insert(session, HITS, rows)  # type: ignore[arg-type]
            for account_id in enqueue:
                jobs.enqueue(session, TRACK_JOB, account_id=account_id, dedup_key=slot)
            session.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                session.rollback()
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None
            raise
        finally:
            with contextlib.suppress(Exception):
                session.close()
        if enqueue:
            self._enqueued = {pair for pair in self._enqueued if pair[1] == slot}
            self._enqueued.update((a, slot) for a in enqueue)
        self.commits += 1
        self.rows += len(rows)


COLUMNS = ("account_id", "id", "send_id", "kind", "link", "url", "method", "user_agent", "ip", "received")
INSERT_HITS = (
    f"INSERT INTO tracking_hits ({', '.join(COLUMNS)}) SELECT * FROM unnest("
    "%s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[], %s::int[], %s::text[], %s::varchar[],"
    " %s::varchar[], %s::varchar[], %s::timestamptz[])"
)


class AsyncFlusher:
    """The PostgreSQL writer of one event loop: one statement (and commit) for all hits waiting.

    `LANES` connections take turns: while one lane's statement is under way, the hits that
    arrive meanwhile go out on the next free lane instead of waiting for it, so a hit waits for
    about one commit, not two."""

    def __init__(self, writer: HitWriter) -> None:
        self.writer = writer
        self.loop = asyncio.get_running_loop()
        self.pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self.wake = asyncio.Event()
        self.tasks = [self.loop.create_task(self._lane()) for _ in range(LANES)]

    async def write(self, row: dict[str, Any]) -> None:
        future: asyncio.Future[None] = self.loop.create_future()
        self.pending.append((row, future))
        self.wake.set()
        await future

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()

    async def _lane(self) -> None:
        connection: Any = None
        try:
            while True:
                await self.wake.wait()
                batch, self.pending = self.pending[:MAX_ROWS_PER_COMMIT], self.pending[MAX_ROWS_PER_COMMIT:]
                if not self.pending:
                    self.wake.clear()
                if not batch:
                    continue
                rows = [row for row, _ in batch]
                error: Exception | None = None
                try:
                    if connection is None:
                        connection = await self._connect()
                    await connection.execute(INSERT_HITS, [[row[c] for row in rows] for c in COLUMNS])
                    self.writer.commits += 1
                    self.writer.rows += len(rows)
                except Exception as exc:
                    log.exception("tracking.commit_failed", rows=len(rows))
                    error = exc
                    await _close(connection)
                    connection = None
                for _, future in batch:
                    if not future.done():
                        if error is None:
                            future.set_result(None)
                        else:
                            future.set_exception(error)
                if error is None:
                    self._enqueue({row["account_id"] for row in rows})
        finally:
            await _close(connection)

    async def _connect(self) -> Any:
        import psycopg

        url = make_url(self.writer.db.settings.database_url).set(drivername="postgresql")
        return await psycopg.AsyncConnection.connect(
            url.render_as_string(hide_password=False), autocommit=True
        )

    def _enqueue(self, accounts: set[str]) -> None:
        slot = track_slot()
        for account_id in accounts:
            if (account_id, slot) not in self.writer._enqueued:
                self.loop.run_in_executor(None, self._enqueue_quietly, account_id, slot)

    def _enqueue_quietly(self, account_id: str, slot: str) -> None:
        try:
            self.writer.enqueue_job(account_id, slot)
        except Exception:  # the sweep enqueues it within 2 s
            log.exception("tracking.enqueue_failed", account=account_id)


async def _close(connection: Any) -> None:
    if connection is not None:
        with contextlib.suppress(Exception):
            await connection.close()


def _settle(waiters: list[Waiter], error: Exception | None) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for waiter in waiters:
        if isinstance(waiter, Future):
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)
        else:
            by_loop.setdefault(waiter[0], []).append(waiter[1])
    for loop, futures in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(_wake, futures, error)


def _wake(futures: list[asyncio.Future[None]], error: Exception | None) -> None:
    for future in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
