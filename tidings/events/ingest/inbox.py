"""The durable inbox and its group-commit writer.

Ingestion endpoints hand their validated payloads to one writer thread per process
(`tidings.jobs.group_commit`), which inserts everything that arrived meanwhile in one
transaction and commits once: concurrent requests share a commit (and its fsync) instead of
paying one each. A request is answered only after its commit, so whatever was acknowledged is
on disk. The same transaction enqueues the `events.process` job that will apply the rows.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from tidings.db.ids import ulid
from tidings.db.session import Database
from tidings.events.ingest.tables import EventInbox
from tidings.jobs.group_commit import GroupCommitWriter, slot

PROCESS_JOB = "events.process"


@dataclass(frozen=True)
class InboxItem:
    account_id: str
    kind: str
    payload: str
    received: dt.datetime


def process_slot(now: float | None = None) -> str:
    """One processing job per account per 100 ms is enough: a job drains all that is pending."""
    return slot(now)


class InboxWriter(GroupCommitWriter):
    """The events inbox's group-commit writer (`tidings.jobs.group_commit`): one per process."""

    def __init__(self, db: Database) -> None:
        super().__init__(db, EventInbox.__table__, PROCESS_JOB, name="inbox-writer")  # type: ignore[arg-type]

    def submit(self, items: list[InboxItem]) -> Future[None]:
        """Queue items for the next commit; the future completes when they are durable."""
        return self.submit_rows(_rows(items))

    async def write(self, items: list[InboxItem]) -> None:
        """Queue items and wait until they are durable."""
        await self.write_rows(_rows(items))


def _rows(items: list[InboxItem]) -> list[dict[str, Any]]:
    return [
        {
            "account_id": i.account_id,
            "id": ulid(),
            "kind": i.kind,
            "payload": i.payload,
            "received": i.received,
        }
        for i in items
    ]
