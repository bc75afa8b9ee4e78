"""The inbox writer: what it acknowledged is stored, and it recovers from a failed commit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import make_account
from tidings.db.base import utcnow
from tidings.events.ingest.inbox import InboxItem, InboxWriter
from tidings.events.ingest.tables import EventInbox
from tidings.jobs import group_commit
from tidings.jobs.tables import Job


def _stored(db, account_id: str) -> int:  # type: ignore[no-untyped-def]
    with db.read() as session:
        query = select(func.count()).select_from(EventInbox).where(EventInbox.account_id == account_id)
        return int(session.execute(query).scalar_one())


def test_a_failed_commit_is_reported_and_the_next_one_reconnects(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    account = make_account(db)
    writer = InboxWriter(db)
    item = InboxItem(account.id, "event", "{}", utcnow())
    try:
        writer.submit([item]).result(10)
        assert _stored(db, account.id) == 1
        real = group_commit.bulk_insert

        def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise ConnectionError("the database went away")

        monkeypatch.setattr(group_commit, "bulk_insert", broken)
        with pytest.raises(ConnectionError):
            writer.submit([item]).result(10)  # not acknowledged: the request answers 503
        assert writer._connection is None  # dropped, reopened by the next commit
        monkeypatch.setattr(group_commit, "bulk_insert", real)
        writer.submit([item, item]).result(10)
        assert _stored(db, account.id) == 3
    finally:
        writer.stop()
    with db.read() as session:  # one processing job per account and slot, however many commits
        jobs = session.execute(select(Job).where(Job.account_id == account.id)).scalars().all()
    assert 1 <= len(jobs) <= 2
