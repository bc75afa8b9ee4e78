"""The durable inbox and its group-commit writer.

Ingestion endpoints hand their validated payloads to one writer thread per process, which
inserts everything that arrived meanwhile in one transaction and commits once: concurrent
requests share a commit (and its fsync) instead of paying one each. A request is answered
only after its commit, so whatever was acknowledged is on disk. The same transaction
enqueues the `events.process` job that will apply the rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass

import structlog
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from tidings.db.dialect import bulk_insert
from tidings.db.ids import ulid
from tidings.db.session import Database
from tidings.events.ingest.tables import EventInbox
from tidings.jobs import queue as jobs

log = structlog.get_logger("tidings.events")

PROCESS_JOB = "events.process"
MAX_ROWS_PER_COMMIT = 5000


@dataclass(frozen=True)
class InboxItem:
    account_id: str
    kind: str
    payload: str
    received: dt.datetime


def process_slot(now: float | None = None) -> str:
    """One processing job per account per 100 ms is enough: a job drains all that is pending."""
    return f"slot:{int((now or time.time()) * 10)}"


# Who waits for a commit: an asyncio future and its loop (a request), or a plain future (a thread).
Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"] | Future[None]


class InboxWriter:
    def __init__(self, db: Database) -> None:
        self.db = db
        # The writer's own connection, kept across commits (a pool checkout pings the server
        # first: a round trip per commit); dropped after any error, reopened by the next commit.
        self._connection: Connection | None = None
        # (account, slot) pairs whose processing job a commit of this writer already enqueued:
        # enqueueing again in the same slot is a no-op (the dedup key), so it is skipped.
        self._enqueued: set[tuple[str, str]] = set()
        self._queue: queue.Queue[tuple[list[InboxItem], Waiter]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.commits = 0
        self.rows = 0

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stopping.clear()
                self._thread = threading.Thread(target=self._run, name="tidings-inbox-writer", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def submit(self, items: list[InboxItem]) -> Future[None]:
        """Queue items for the next commit; the future completes when they are durable."""
        future: Future[None] = Future()
        self._put(items, future)
        return future

    async def write(self, items: list[InboxItem]) -> None:
        """Queue items and wait until they are durable. The writer wakes each event loop once per
        commit for all of its requests, not once per request."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._put(items, (loop, waiter))
        await waiter

    def _put(self, items: list[InboxItem], waiter: Waiter) -> None:
        if self._thread is None or not self._thread.is_alive():
            self.start()
        self._queue.put((items, waiter))

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
                self._commit([i for items, _ in pending for i in items])
            except Exception as exc:
                log.exception("inbox.commit_failed", rows=count)
                error = exc
            _settle([waiter for _, waiter in pending], error)
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _commit(self, items: list[InboxItem]) -> None:
        if not items:
            return
        rows = [
            {
                "account_id": i.account_id,
                "id": ulid(),
                "kind": i.kind,
                "payload": i.payload,
                "received": i.received,
            }
            for i in items
        ]
        slot = process_slot()
        enqueue = [a for a in {i.account_id for i in items} if (a, slot) not in self._enqueued]
        if self._connection is None:
            self._connection = self.db.write_connection()
        session = Session(self._connection, expire_on_commit=False)
        try:
            bulk_insert(session, EventInbox.__table__, rows)  # type: ignore[arg-type]
            for account_id in enqueue:
                jobs.enqueue(session, PROCESS_JOB, account_id=account_id, dedup_key=slot)
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
            self._enqueued = {pair for pair in self._enqueued if pair[1] == slot}
            self._enqueued.update((a, slot) for a in enqueue)
        self.commits += 1
        self.rows += len(rows)


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
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(_wake, futures, error)


def _wake(futures: list[asyncio.Future[None]], error: Exception | None) -> None:
    for future in futures:
        if future.done():  # the request was cancelled (client went away)
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
