"""A group-commit writer: rows that many requests hand over while a commit is under way go into
the next one, one INSERT and one commit (and its fsync) for all of them.

A request is answered only after the commit that holds its rows, so whatever was acknowledged
is on disk. The same transaction enqueues, per account, the job that will process the rows:
one job per account per 100 ms slot (`slot()`), since a job takes everything pending; a writer
remembers which (account, slot) it already enqueued and skips the statement the dedup key would
ignore anyway.

The events inbox (`events.ingest.inbox`) and the open and click hits (`delivery.tracking_hits`)
write through it; each says which table and which job.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

import structlog
from sqlalchemy import Connection, Table
from sqlalchemy.orm import Session

from tidings.db.dialect import bulk_insert
from tidings.db.session import Database
from tidings.jobs import queue as jobs

log = structlog.get_logger("tidings.jobs")

MAX_ROWS_PER_COMMIT = 5000

# Who waits for a commit: an asyncio future and its loop (a request), or a plain future (a thread).
Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"] | Future[None]


def slot(now: float | None = None) -> str:
    """One processing job per account per 100 ms is enough: a job drains all that is pending."""
    return f"slot:{int((now or time.time()) * 10)}"


class GroupCommitWriter:
    """One writer thread per process (started on first use) for `table`'s rows."""

    def __init__(self, db: Database, table: Table, job: str, *, name: str) -> None:
        self.db = db
        self.table = table
        self.job = job
        self.name = name
        # The writer's own connection, kept across commits (a pool checkout pings the server
        # first: a round trip per commit); dropped after any error, reopened by the next commit.
        self._connection: Connection | None = None
        self._enqueued: set[tuple[str, str]] = set()
        self._queue: queue.Queue[tuple[Sequence[dict[str, Any]], Waiter]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.commits = 0
        self.rows = 0

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stopping.clear()
                self._thread = threading.Thread(target=self._run, name=f"tidings-{self.name}", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def submit_rows(self, rows: Sequence[dict[str, Any]]) -> Future[None]:
        """Queue rows for the next commit; the future completes when they are durable."""
        future: Future[None] = Future()
        self._put(rows, future)
        return future

    async def write_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """Queue rows and wait until they are durable. The writer wakes each event loop once per
        commit for all of its requests, not once per request."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._put(rows, (loop, waiter))
        await waiter

    def enqueued(self, account_id: str, at: str) -> bool:
        """Whether this writer already enqueued the account's job of slot `at`."""
        return (account_id, at) in self._enqueued

    def enqueue_job(self, account_id: str, at: str) -> None:
        """The account's job of slot `at`, in a transaction of its own (for rows committed by
        other means; a job that finds nothing is harmless)."""
        if self.enqueued(account_id, at):
            return
        with self.db.write() as session:
            jobs.enqueue(session, self.job, account_id=account_id, dedup_key=at)
        self._remember([account_id], at)

    def _remember(self, accounts: Sequence[str], at: str) -> None:
        with self._lock:
            self._enqueued = {pair for pair in self._enqueued if pair[1] == at}
            self._enqueued.update((account_id, at) for account_id in accounts)

    def _put(self, rows: Sequence[dict[str, Any]], waiter: Waiter) -> None:
        if self._thread is None or not self._thread.is_alive():
            self.start()
        self._queue.put((rows, waiter))

    def _run(self) -> None:
        while not (self._stopping.is_set() and self._queue.empty()):
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            pending = [first]
            count = len(first[0])
            while count < MAX_ROWS_PER_COMMIT:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                pending.append(item)
                count += len(item[0])
            error: Exception | None = None
            try:
                self._commit([row for rows, _ in pending for row in rows])
            except Exception as exc:
                log.exception("group_commit.failed", writer=self.name, rows=count)
                error = exc
            settle([waiter for _, waiter in pending], error)
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _commit(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        at = slot()
        enqueue = [a for a in {row["account_id"] for row in rows} if not self.enqueued(a, at)]
        if self._connection is None:
            self._connection = self.db.write_connection()
        session = Session(self._connection, expire_on_commit=False)
        try:
            bulk_insert(session, self.table, rows)
            for account_id in enqueue:
                jobs.enqueue(session, self.job, account_id=account_id, dedup_key=at)
            session.commit()
        except BaseException:
            # The connection may be what failed: drop it whatever rolling back says.
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
            self._remember(enqueue, at)
        self.commits += 1
        self.rows += len(rows)


def settle(waiters: list[Waiter], error: Exception | None) -> None:
    """Complete each waiter (with the commit's error, if any), waking each event loop once."""
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
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(wake, futures, error)


def wake(futures: list[asyncio.Future[None]], error: Exception | None) -> None:
    for future in futures:
        if future.done():  # the request was cancelled (client went away)
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
