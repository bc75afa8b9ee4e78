"""Planning a whole audience in one INSERT ... SELECT: one row per profile, insert-if-absent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select, union_all

from tests.conftest import make_account
from tidings.config import Settings
from tidings.db.session import Database
from tidings.delivery import service, sources
from tidings.delivery.messages import EmailDefinition
from tidings.delivery.service import CampaignMessageSource
from tidings.delivery.tables import Channel, MessageSend, SourceKind
from tidings.delivery.worker import deliver_due
from tidings.profiles.service import create_profile
from tidings.profiles.tables import Profile


def test_an_audience_is_planned_once_per_profile_however_often_it_is_asked(
    db: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = make_account(db).id
    with db.write() as session:
        ids = [
            create_profile(session, account, {"email": f"aud{n}@example.com"}).profile.id for n in range(5)
        ]
        # One of them was planned alone before (a retried job, say): it is left as it was.
        first = service.plan(
            session,
            account,
            source=CampaignMessageSource("CM1"),
            profile_id=ids[0],
            channel=Channel.EMAIL,
            domain="shop.example",
        ).send
    audience = select(Profile.id).where(Profile.account_id == account, Profile.id.in_(ids))
    twice = union_all(audience, audience)  # a person in two lists: still one message
    with db.write() as session:
        written = service.plan_many(
            session,
            account,
            source=CampaignMessageSource("CM1"),
            profiles=select(twice.subquery().c[0]),
            channel=Channel.EMAIL,
            domain="shop.example",
        )
    assert written == 4
    with db.write() as session:
        again = service.plan_many(
            session,
            account,
            source=CampaignMessageSource("CM1"),
            profiles=audience,
            channel=Channel.EMAIL,
            domain="shop.example",
        )
    assert again == 0
    with db.read() as session:
        rows = session.execute(select(MessageSend).where(MessageSend.account_id == account)).scalars().all()
    assert sorted(r.profile_id for r in rows) == sorted(ids)
    assert {r.idempotency_key for r in rows} == {f"c:CM1:{pid}" for pid in ids}
    assert len({r.id for r in rows}) == 5 and len({r.message_id for r in rows}) == 5
    assert {r.source_kind for r in rows} == {SourceKind.CAMPAIGN_MESSAGE}
    assert next(r for r in rows if r.profile_id == ids[0]).id == first.id
    for row in rows:
        if row.id != first.id:
            assert re.fullmatch(r"[0-9A-Z]{26}", row.id)
            assert row.message_id == f"<{row.id.lower()}.{account.lower()}@shop.example>"

    # They send like any other row, through the campaign message's definition.
    definition = EmailDefinition(subject="News", html="<p>Hello {{ email }}</p>", smart_sending=False)
    monkeypatch.setitem(sources._resolvers, SourceKind.CAMPAIGN_MESSAGE, lambda s, a, m: definition)
    deliver_due(db, settings.model_copy(update={"outbox_dir": str(tmp_path)}))
    with db.read() as session:
        rows = session.execute(
            select(MessageSend.id, MessageSend.status).where(MessageSend.account_id == account)
        ).all()
    assert {status for _id, status in rows} == {"sent"}
    # The worker takes every account's due rows: count only this account's messages.
    ours = {send_id for send_id, _status in rows}
    assert len([p for p in tmp_path.glob("*/*.eml") if p.stem in ours]) == 5


def test_an_email_without_content_is_skipped_not_sent_empty(
    db: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = make_account(db).id
    with db.write() as session:
        pid = create_profile(session, account, {"email": "empty@example.com"}).profile.id
        service.plan_many(
            session,
            account,
            source=CampaignMessageSource("CM-EMPTY"),
            profiles=select(Profile.id).where(Profile.account_id == account, Profile.id == pid),
            channel=Channel.EMAIL,
            domain="shop.example",
        )
    definition = EmailDefinition(subject="Nothing yet", smart_sending=False)
    monkeypatch.setitem(sources._resolvers, SourceKind.CAMPAIGN_MESSAGE, lambda s, a, m: definition)
    deliver_due(db, settings.model_copy(update={"outbox_dir": str(tmp_path)}))
    with db.read() as session:
        row = session.execute(select(MessageSend).where(MessageSend.account_id == account)).scalar_one()
    assert (row.status, row.reason) == ("skipped", "Message Draft")
