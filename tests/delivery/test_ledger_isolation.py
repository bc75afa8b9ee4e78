"""One account's plans, claims, skips and cancels never touch another's rows, even when their
idempotency keys are the same."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import make_account
from tests.delivery.fakes import CountingRenderer, plan_send
from tidings.db.session import Database
from tidings.delivery import service
from tidings.delivery.service import SkipReason
from tidings.delivery.tables import MessageSend, SendStatus


def _statuses(db: Database, account_id: str) -> dict[str, str]:
    with db.read() as session:
        rows = session.execute(select(MessageSend).where(MessageSend.account_id == account_id)).scalars()
        return {row.idempotency_key: row.status for row in rows}


def test_accounts_do_not_share_rows(db: Database) -> None:
    a, b = make_account(db).id, make_account(db).id
    source = service.CampaignMessageSource("same-campaign-message")
    with db.write() as session:
        in_a = [plan_send(session, a, source=source, profile_id=f"P{i}") for i in range(3)]
        in_b = [plan_send(session, b, source=source, profile_id=f"P{i}") for i in range(3)]
        caller_a = plan_send(session, a, source=service.ApiSource("k1"))
        caller_b = plan_send(session, b, source=service.ApiSource("k1"))
    # The same keys in two accounts are two rows, with different Message-IDs.
    assert all(p.created for p in [*in_a, *in_b, caller_a, caller_b])
    assert {p.send.idempotency_key for p in in_a} == {p.send.idempotency_key for p in in_b}
    assert caller_a.send.id != caller_b.send.id
    assert caller_a.send.message_id != caller_b.send.message_id
    b_ids = [p.send.id for p in in_b]

    with db.write() as session:
        # A's cancel of its campaign message, and of B's row ids, leave B alone.
        assert service.cancel(session, a, source_id="same-campaign-message") == 3
        assert service.cancel(session, a, send_ids=b_ids) == 0
        assert service.skip(session, a, b_ids, SkipReason.SUPPRESSED) == 0
        assert service.get(session, a, b_ids[0]) is None
        # A planning B's key again finds A's row, not B's.
        again = plan_send(session, a, source=source, profile_id="P0")
        assert not again.created and again.send.id == in_a[0].send.id
    assert set(_statuses(db, b).values()) == {SendStatus.PLANNED}

    with db.write() as session:  # A's worker claims only A's rows
        claims = service.claim(session, a, CountingRenderer())
    assert [c.send_id for c in claims] == [caller_a.send.id]
    assert set(_statuses(db, b).values()) == {SendStatus.PLANNED}
    with db.write() as session:
        claims_b = service.claim(session, b, CountingRenderer())
    assert {c.send_id for c in claims_b} == {*b_ids, caller_b.send.id}
