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
from concurrent.futures import Future
from typing import Any

import structlog
from sqlalchemy.engine import make_url

from tidings.db.session import Database
from tidings.delivery.tables import TrackingHit
from tidings.jobs.group_commit import MAX_ROWS_PER_COMMIT, GroupCommitWriter, slot

log = structlog.get_logger("tidings.delivery")

TRACK_JOB = "delivery.track"
LANES = 2  # PostgreSQL connections a process writes hits on at once
HITS = TrackingHit.__table__


def track_slot(now: float | None = None) -> str:
    """One job per account per 100 ms: a job takes everything pending."""
    return slot(now)


class HitWriter(GroupCommitWriter):
    """Hits, group-committed (`tidings.jobs.group_commit`); on PostgreSQL by `AsyncFlusher`s on
    the server's event loops instead of the writer thread."""

    def __init__(self, db: Database) -> None:
        super().__init__(db, HITS, TRACK_JOB, name="hit-writer")  # type: ignore[arg-type]
        self._flushers: dict[asyncio.AbstractEventLoop, AsyncFlusher] = {}

    def stop(self, timeout: float = 10.0) -> None:
        for flusher in list(self._flushers.values()):
            flusher.close()
        self._flushers.clear()
        super().stop(timeout)

    def submit(self, row: dict[str, Any]) -> Future[None]:
        """Queue a hit for the next commit; the future completes once it is durable."""
        return self.submit_rows([row])

    async def write(self, row: dict[str, Any]) -> None:
        """Queue a hit and wait until it is durable."""
        if self.db.dialect == "postgresql":
            loop = asyncio.get_running_loop()
            flusher = self._flushers.get(loop)
            if flusher is None:
                flusher = self._flushers[loop] = AsyncFlusher(self)
            await flusher.write(row)
            return
        await self.write_rows([row])


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
            if not self.writer.enqueued(account_id, slot):
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
