"""A profile's sends through a merge, an unmerge and a privacy deletion (delivery's participant)."""

from __future__ import annotations

from tests.conftest import make_account
from tests.delivery.fakes import CountingRenderer, plan_send
from tests.profiles.factories import make_profile
from tidings.db.session import Database
from tidings.delivery import service
from tidings.delivery.service import SkipReason
from tidings.delivery.tables import MessageSend, SendStatus
from tidings.profiles import privacy
from tidings.profiles import service as profiles


def _sends(db: Database, account_id: str) -> dict[str, MessageSend]:
    with db.read() as session:
        return {row.id: row for row in session.query(MessageSend).filter_by(account_id=account_id)}


def test_a_merge_moves_the_sends_and_an_unmerge_moves_them_back(db: Database) -> None:
    account = make_account(db).id
    kept = make_profile(db, account, email="kept@example.com")
    gone = make_profile(db, account, email="gone@example.com")
    with db.write() as session:
        planned = plan_send(session, account, profile_id=gone).send.id
        theirs = plan_send(session, account, profile_id=kept).send.id
    with db.write() as session:
        merge_id = profiles.merge_profiles(session, account, kept, [gone])
    rows = _sends(db, account)
    assert {rows[planned].profile_id, rows[theirs].profile_id} == {kept}
    with db.write() as session:
        profiles.unmerge(session, account, merge_id)
    rows = _sends(db, account)
    assert rows[planned].profile_id == gone and rows[theirs].profile_id == kept


def test_a_privacy_deletion_skips_what_was_planned_and_drops_stored_renderings(db: Database) -> None:
    account = make_account(db).id
    person = make_profile(db, account, email="forget-me@example.com")
    with db.write() as session:
        sent = plan_send(session, account, profile_id=person).send.id
    with db.write() as session:
        [held] = service.claim(session, account, CountingRenderer())
    with db.write() as session:
        service.record_sent(session, held, "ref-1")
        waiting = plan_send(session, account, profile_id=person).send.id
    assert _sends(db, account)[sent].content is not None
    with db.write() as session:
        assert privacy.delete_profile(session, account, person)
    rows = _sends(db, account)
    assert rows[waiting].status == SendStatus.SKIPPED and rows[waiting].reason == SkipReason.PERSON_DELETED
    assert rows[sent].status == SendStatus.SENT and rows[sent].content is None  # counted, not kept
