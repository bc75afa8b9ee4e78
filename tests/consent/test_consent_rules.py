"""Consent changes, their events, and the one may_receive() answer every sender asks."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.conftest import make_account
from tests.profiles.factories import make_profile
from tidings.consent import service
from tidings.consent.policy import (
    Channel,
    ConsentRecord,
    ConsentState,
    Purpose,
    SuppressionReason,
    decide,
    may_receive,
    may_receive_many,
)
from tidings.consent.render import subscriptions_for
from tidings.events.tables import Event, Metric

EMAIL, SMS, PUSH = Channel.EMAIL, Channel.SMS, Channel.PUSH
MKT, TX = Purpose.MARKETING, Purpose.TRANSACTIONAL


def _metrics(db, account_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    with db.read() as session:
        rows = session.execute(
            select(Metric.name)
            .join(Event, (Event.metric_id == Metric.id) & (Event.account_id == Metric.account_id))
            .where(Event.account_id == account_id)
        )
        return sorted(name for (name,) in rows)  # events in one second have no order


@pytest.mark.parametrize(
    ("state", "channel", "purpose", "allowed"),
    [
        (ConsentState(email="a@b.co"), EMAIL, MKT, True),  # never subscribed: implicit consent
        (ConsentState(), EMAIL, MKT, False),  # no address
        (
            ConsentState(email="a@b.co", consents={("email", "marketing"): ConsentRecord("UNSUBSCRIBED")}),
            EMAIL,
            MKT,
            False,
        ),
        (ConsentState(email="a@b.co", suppressions={"USER_SUPPRESSED"}), EMAIL, MKT, False),
        (ConsentState(email="a@b.co", suppressions={"UNSUBSCRIBE"}), EMAIL, TX, True),
        (ConsentState(email="a@b.co", suppressions={"USER_SUPPRESSED"}), EMAIL, TX, True),
        (ConsentState(email="a@b.co", suppressions={"HARD_BOUNCE"}), EMAIL, TX, False),
        (ConsentState(email="a@b.co", suppressions={"SPAM_COMPLAINT"}), EMAIL, TX, False),
        (ConsentState(phone_number="+16175550100"), SMS, MKT, False),  # no implied consent for SMS
        (
            ConsentState(
                phone_number="+16175550100", consents={("sms", "marketing"): ConsentRecord("SUBSCRIBED")}
            ),
            SMS,
            MKT,
            True,
        ),
        (
            ConsentState(
                phone_number="+16175550100", consents={("sms", "marketing"): ConsentRecord("SUBSCRIBED")}
            ),
            SMS,
            TX,
            False,
        ),
        (ConsentState(consents={("sms", "marketing"): ConsentRecord("SUBSCRIBED")}), SMS, MKT, False),
        (ConsentState(push_statuses={"AUTHORIZED"}), PUSH, MKT, True),
        (ConsentState(push_statuses={"UNAUTHORIZED"}), PUSH, MKT, False),
        (
            ConsentState(
                push_statuses={"AUTHORIZED"},
                consents={("mobile_push", "marketing"): ConsentRecord("UNSUBSCRIBED")},
            ),
            PUSH,
            MKT,
            False,
        ),
        (
            ConsentState(
                push_statuses={"AUTHORIZED"},
                consents={("mobile_push", "marketing"): ConsentRecord("UNSUBSCRIBED")},
            ),
            PUSH,
            TX,
            True,
        ),
    ],
)
def test_decide(state, channel, purpose, allowed) -> None:
    assert decide(state, channel, purpose).allowed is allowed


def test_list_suppression_blocks_only_that_list() -> None:
    state = ConsentState(email="a@b.co", list_suppressions={"L1"})
    assert not decide(state, EMAIL, MKT, list_id="L1")
    assert decide(state, EMAIL, MKT, list_id="L2")
    assert decide(state, EMAIL, MKT)


def test_whatsapp_consent_expires() -> None:
    past = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    state = ConsentState(
        phone_number="+16175550100", consents={("whatsapp", "marketing"): ConsentRecord("SUBSCRIBED", past)}
    )
    assert not decide(state, Channel.WHATSAPP, MKT)


def test_subscribe_unsubscribe_suppress_cycle(db) -> None:
    account = make_account(db)
    pid = make_profile(db, account.id, email="cycle@example.com", phone_number="+16175550120")
    with db.write() as session:
        service.suppress(session, account.id, pid)
        service.suppress(session, account.id, pid, SuppressionReason.HARD_BOUNCE)
    with db.read() as session:
        assert not may_receive(session, account.id, pid, EMAIL, MKT)
    with db.write() as session:
        service.subscribe(
            session, account.id, pid, EMAIL, method=service.Method("API", custom_method_detail="Home")
        )
        service.subscribe(session, account.id, pid, SMS)
    with db.read() as session:
        # Subscribing lifts USER_SUPPRESSED but never HARD_BOUNCE.
        assert not may_receive(session, account.id, pid, EMAIL, MKT)
        assert may_receive(session, account.id, pid, SMS, MKT)
        subs = subscriptions_for(session, account.id, [pid])[pid]
    assert subs["email"]["marketing"]["consent"] == "SUBSCRIBED"
    assert subs["email"]["marketing"]["custom_method_detail"] == "Home"
    assert [s["reason"] for s in subs["email"]["marketing"]["suppression"]] == ["HARD_BOUNCE"]
    with db.write() as session:
        service.unsubscribe(session, account.id, pid, EMAIL)
        service.unsuppress(session, account.id, pid)  # nothing to lift: USER_SUPPRESSED is gone
    with db.read() as session:
        subs = subscriptions_for(session, account.id, [pid])[pid]
        decisions = may_receive_many(session, account.id, [pid, "nobody"], EMAIL, TX)
    assert subs["email"]["marketing"]["consent"] == "UNSUBSCRIBED"
    assert {s["reason"] for s in subs["email"]["marketing"]["suppression"]} == {"HARD_BOUNCE", "UNSUBSCRIBE"}
    assert not decisions[pid] and not decisions["nobody"]
    assert _metrics(db, account.id) == [
        "Manually Suppressed from Email Marketing",
        "Subscribed to Email Marketing",
        "Subscribed to SMS Marketing",
        "Unsubscribed from Email Marketing",
    ]


def test_double_opt_in_changes_consent_only_when_confirmed(db) -> None:
    account = make_account(db)
    pid = make_profile(db, account.id, email="doi@example.com")
    with db.write() as session:
        assert service.subscribe(session, account.id, pid, EMAIL, double_optin_pending=True) is None
    with db.read() as session:
        assert (
            subscriptions_for(session, account.id, [pid])[pid]["email"]["marketing"]["consent"]
            == "NEVER_SUBSCRIBED"
        )
    with db.write() as session:
        assert service.confirm_double_optin(session, account.id, pid) is not None
    with db.read() as session:
        marketing = subscriptions_for(session, account.id, [pid])[pid]["email"]["marketing"]
    assert marketing["consent"] == "SUBSCRIBED" and marketing["double_optin"] is True


def test_list_scoped_unsubscribe(db) -> None:
    account = make_account(db)
    pid = make_profile(db, account.id, email="list@example.com")
    with db.write() as session:
        service.unsubscribe(session, account.id, pid, EMAIL, list_id="L1")
    with db.read() as session:
        assert not may_receive(session, account.id, pid, EMAIL, MKT, list_id="L1")
        assert may_receive(session, account.id, pid, EMAIL, MKT, list_id="L2")
    with db.write() as session:
        service.subscribe(session, account.id, pid, EMAIL, list_id="L1")
    with db.read() as session:
        assert may_receive(session, account.id, pid, EMAIL, MKT, list_id="L1")
    assert _metrics(db, account.id) == ["Subscribed to Email Marketing", "Unsubscribed from List"]


def test_consent_timestamps_are_clamped_to_1990(db) -> None:
    account = make_account(db)
    pid = make_profile(db, account.id, email="old@example.com")
    with db.write() as session:
        service.subscribe(
            session, account.id, pid, EMAIL, consented_at=dt.datetime(1980, 5, 1, tzinfo=dt.UTC)
        )
    with db.read() as session:
        marketing = subscriptions_for(session, account.id, [pid])[pid]["email"]["marketing"]
    assert marketing["consent_timestamp"].startswith("1990-01-01")
