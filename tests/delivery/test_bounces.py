"""Bounces and complaints change what the API shows: Bounced Email, Marked Email as Spam, the
suppressions and the unsubscribe, once however often the report comes; one account's report
never touches another's profiles."""

from __future__ import annotations

from sqlalchemy import select

from tests.delivery import bounce_fixtures as fx
from tests.delivery.bounce_support import (
    BOUNCE_DOMAIN,
    customer,
    email_marketing,
    events,
    metric_names,
    process,
    sent_email,
    suppressions,
)
from tests.delivery.fakes import plan_send
from tidings.delivery import bounces, inbound, service, verp
from tidings.delivery.tables import InboundReport
from tidings.profiles import privacy
from tidings.templates.links import instance_secret


def _secret(db) -> str:  # type: ignore[no-untyped-def]
    with db.write() as session:
        return instance_secret(session, None)


def _store(db, raw: bytes, envelope: list[str] | None = None) -> str | None:  # type: ignore[no-untyped-def]
    with db.write() as session:
        return inbound.store_message(session, "smtp", raw, envelope)


def _outcome(db, report_id: str) -> InboundReport:  # type: ignore[no-untyped-def]
    with db.read() as session:
        return session.execute(select(InboundReport).where(InboundReport.id == report_id)).scalar_one()


def _postfix(sent, *, to: str | None = None, **kwargs) -> bytes:  # type: ignore[no-untyped-def]
    original = fx.original_headers(message_id=sent.message_id, rcpt=sent.email)
    return fx.postfix_dsn(to=to or "postmaster@shop.example", rcpt=sent.email, original=original, **kwargs)


def test_a_hard_bounce_records_bounced_email_and_suppresses(db, client, account, sdk) -> None:
    profile, email = customer(db, account.id)
    sent = sent_email(db, account.id, profile, email)
    report = _store(db, _postfix(sent))
    process(db)

    assert _outcome(db, report).outcome == "hard bounce"
    [(_name, props)] = [e for e in events(client, account, profile) if e[0] == "Bounced Email"]
    assert props["Bounce Type"] == "hard"
    assert props["$message"] == "MSG123" and props["Campaign Name"] == "Winter sale"
    assert props["Subject"] == "Our winter sale" and props["Email Domain"] == "example.net"
    assert props["$event_id"] == f"{sent.send_id}:bounced"
    # Through the official SDK: get_profile with subscriptions shows the suppression.
    marketing = sdk.Profiles.get_profile(profile, additional_fields_profile=["subscriptions"]).data
    suppression = marketing.attributes.subscriptions.email.marketing.suppression
    assert [s.reason for s in suppression] == ["HARD_BOUNCE"]
    assert marketing.attributes.subscriptions.email.marketing.can_receive_email_marketing is False


def test_the_same_report_twice_changes_nothing(db, client, account) -> None:
    profile, email = customer(db, account.id)
    sent = sent_email(db, account.id, profile, email)
    raw = _postfix(sent)
    assert _store(db, raw) is not None
    assert _store(db, raw) is None  # the very same bytes: stored once
    # Another copy of the report (a different Message-ID of the DSN): processed, changes nothing.
    second = _store(db, raw.replace(b"<20261206210212.8F2C11A0C3@mx.example.net>", b"<other@mx.example.net>"))
    process(db)
    assert _outcome(db, second).outcome == "hard bounce (already recorded)"
    assert metric_names(client, account, profile) == ["Bounced Email"]
    assert suppressions(client, account, profile) == ["HARD_BOUNCE"]


def test_a_delay_notice_and_an_auto_reply_are_not_bounces(db, client, account) -> None:
    profile, email = customer(db, account.id)
    sent = sent_email(db, account.id, profile, email)
    original = fx.original_headers(message_id=sent.message_id, rcpt=email)
    delayed = _store(
        db, fx.exim_dsn(to="x@shop.example", rcpt=email, original=original, action="delayed", status="4.0.0")
    )
    away = _store(db, fx.auto_reply(to="x@shop.example") + f"\r\nMessage-ID: {sent.message_id}\r\n".encode())
    process(db)
    assert _outcome(db, delayed).outcome == "not a report"
    assert _outcome(db, away).outcome == "not a report"
    assert metric_names(client, account, profile) == []
    assert suppressions(client, account, profile) == []


def test_exim_failure_found_by_the_original_message_id(db, client, account) -> None:
    profile, email = customer(db, account.id)
    sent = sent_email(db, account.id, profile, email)
    original = fx.original_headers(message_id=sent.message_id, rcpt=email)
    report = _store(db, fx.exim_dsn(to="news@shop.example", rcpt=email, original=original))
    process(db)
    assert _outcome(db, report).outcome == "hard bounce"
    assert suppressions(client, account, profile) == ["HARD_BOUNCE"]


def test_a_multi_recipient_gmail_dsn_reports_on_our_recipient(db, client, account) -> None:
    """The block for our address decides: here a full mailbox (5.2.2, soft as Klaviyo counts it),
    while another recipient of the same DSN failed for good."""
    profile, email = customer(db, account.id)
    sent = sent_email(db, account.id, profile, email)
    original = fx.original_headers(message_id=sent.message_id, rcpt=email)
    raw = fx.gmail_dsn(
        to="news@shop.example",
        recipients=[
            (
                "someone.else@example.com",
                "failed",
                "5.1.1",
                "550-5.1.1 The email account that you tried to reach does not exist.",
            ),
            (email, "failed", "5.2.2", "552-5.2.2 The email account that you tried to reach is over quota."),
            ("third@example.com", "delivered", "2.0.0", "250 2.0.0 OK"),
        ],
        original=original,
    )
    report = _store(db, raw)
    process(db)
    assert _outcome(db, report).outcome == "soft bounce"
    [(_name, props)] = events(client, account, profile)
    assert props["Bounce Type"] == "soft"
    assert suppressions(client, account, profile) == []


def test_a_mangled_bounce_with_only_the_verp_address(db, client, account) -> None:
    profile, email = customer(db, account.id)
    sent = sent_email(db, account.id, profile, email)
    address = verp.return_path(account.id, sent.send_id, _secret(db), domain=BOUNCE_DOMAIN)
    report = _store(db, fx.qmail_bounce(to=address, rcpt=email), [address])
    process(db)
    assert _outcome(db, report).outcome == "hard bounce"
    assert suppressions(client, account, profile) == ["HARD_BOUNCE"]


def test_a_forged_verp_address_is_ignored(db, client, account) -> None:
    profile, email = customer(db, account.id)
    sent = sent_email(db, account.id, profile, email)
    good = verp.return_path(account.id, sent.send_id, _secret(db), domain=BOUNCE_DOMAIN)
    forged = verp.return_path(account.id, sent.send_id, "not the secret", domain=BOUNCE_DOMAIN)
    assert good != forged and verp.parse_return_path(forged, _secret(db)) is None
    # Even with the right Message-ID inside: a return path that fails its check is not trusted.
    report = _store(db, _postfix(sent, to=forged), [forged])
    process(db)
    assert _outcome(db, report).outcome == "forged return path"
    assert metric_names(client, account, profile) == []


def test_a_complaint_marks_spam_suppresses_and_unsubscribes(db, client, account) -> None:
    profile, email = customer(db, account.id)
    sent = sent_email(db, account.id, profile, email)
    address = verp.return_path(account.id, sent.send_id, _secret(db), domain=BOUNCE_DOMAIN)
    original = fx.original_headers(message_id=sent.message_id, rcpt=email, return_path=address)
    raw = fx.yahoo_arf(to=f"fbl@{BOUNCE_DOMAIN}", rcpt=email, original=original, mail_from=address)
    report = _store(db, raw, [f"fbl@{BOUNCE_DOMAIN}"])
    again = _store(db, raw.replace(b"1733523003.8821.feedback", b"1733523004.9.feedback"))
    process(db)
    assert _outcome(db, report).outcome == "complaint"
    assert _outcome(db, again).outcome == "complaint (already recorded)"
    assert metric_names(client, account, profile) == [
        "Marked Email as Spam",
        "Unsubscribed from Email Marketing",
    ]
    [(_n, props)] = [e for e in events(client, account, profile) if e[0] == "Marked Email as Spam"]
    assert props["$message"] == "MSG123" and props["$event_id"] == f"{sent.send_id}:spam"
    marketing = email_marketing(client, account, profile)
    assert marketing["consent"] == "UNSUBSCRIBED"
    assert sorted(s["reason"] for s in marketing["suppression"]) == ["SPAM_COMPLAINT", "UNSUBSCRIBE"]


def test_an_arf_with_headers_only_found_by_its_send_id_header(db, client, account) -> None:
    profile, email = customer(db, account.id)
    sent = sent_email(db, account.id, profile, email)
    original = fx.original_headers(message_id="<rewritten@relay.example>", rcpt=email, send_id=sent.send_id)
    report = _store(db, fx.yahoo_arf(to="fbl@shop.example", rcpt=email, original=original, headers_only=True))
    process(db)
    assert _outcome(db, report).outcome == "complaint"
    assert "SPAM_COMPLAINT" in suppressions(client, account, profile)


def _soft_bounce(db, sent) -> None:  # type: ignore[no-untyped-def]
    raw = _postfix(sent, status="4.2.2", diagnostic="452 4.2.2 <{rcpt}>: Mailbox full")
    _store(db, raw)


def test_seven_consecutive_soft_bounces_do_not_suppress_and_eight_do(db, client, account) -> None:
    profile, email = customer(db, account.id)
    for _ in range(7):
        _soft_bounce(db, sent_email(db, account.id, profile, email))
    process(db)
    assert metric_names(client, account, profile) == ["Bounced Email"] * 7
    assert suppressions(client, account, profile) == []
    _soft_bounce(db, sent_email(db, account.id, profile, email))
    process(db)
    assert suppressions(client, account, profile) == ["HARD_BOUNCE"]


def test_a_send_that_did_not_bounce_resets_the_streak(db, client, account) -> None:
    profile, email = customer(db, account.id)
    for _ in range(5):
        _soft_bounce(db, sent_email(db, account.id, profile, email))
    sent_email(db, account.id, profile, email)  # delivered: nothing came back
    for _ in range(5):
        _soft_bounce(db, sent_email(db, account.id, profile, email))
    process(db)
    assert len(metric_names(client, account, profile)) == 10
    assert suppressions(client, account, profile) == []


def test_a_rejection_during_the_send_is_a_hard_bounce(db, client, account) -> None:
    profile, email = customer(db, account.id)
    sent = sent_email(db, account.id, profile, email)
    with db.write() as session:
        send = service.get(session, account.id, sent.send_id)
        assert send is not None
        assert bounces.record_rejection(session, send, status="5.1.1", detail="550 5.1.1 no such user")
    with db.write() as session:
        send = service.get(session, account.id, sent.send_id)
        assert send is not None
        assert not bounces.record_rejection(session, send, status="5.1.1", detail="550 5.1.1 no such user")
    assert metric_names(client, account, profile) == ["Bounced Email"]
    assert suppressions(client, account, profile) == ["HARD_BOUNCE"]


def test_a_report_touches_only_the_account_of_its_send(db, client, account, other_account) -> None:
    """Two accounts with the same address; the bounce of account A's send changes nothing in B,
    and a VERP address naming A's account with B's send (or a send of nobody) is ignored."""
    profile_a, email = customer(db, account.id, "same@example.net")
    profile_b, _ = customer(db, other_account.id, "same@example.net")
    sent_a = sent_email(db, account.id, profile_a, email)
    sent_b = sent_email(db, other_account.id, profile_b, email)
    secret = _secret(db)
    crossed = verp.return_path(account.id, sent_b.send_id, secret, domain=BOUNCE_DOMAIN)
    crossed_report = _store(db, fx.qmail_bounce(to=crossed, rcpt=email), [crossed])
    unknown = _store(db, _postfix(sent_a).replace(sent_a.message_id.encode(), b"<nobody@shop.example>"))
    process(db)
    assert _outcome(db, crossed_report).outcome == "unknown send"
    assert _outcome(db, unknown).outcome == "unknown send"
    assert metric_names(client, other_account, profile_b) == []

    report = _store(db, _postfix(sent_a))
    process(db)
    stored = _outcome(db, report)
    assert (stored.send_account_id, stored.send_id) == (account.id, sent_a.send_id)
    assert suppressions(client, account, profile_a) == ["HARD_BOUNCE"]
    assert suppressions(client, other_account, profile_b) == []
    assert metric_names(client, other_account, profile_b) == []
    # One account's key cannot read the other's profile.
    response = client.get(f"/api/profiles/{profile_a}", headers=other_account.headers())
    assert response.status_code == 404


def test_a_privacy_deletion_drops_the_reports_about_the_person(db, client, account) -> None:
    profile, email = customer(db, account.id)
    sent = sent_email(db, account.id, profile, email)
    report = _store(db, _postfix(sent))
    process(db)
    assert _outcome(db, report).send_id == sent.send_id
    with db.write() as session:
        assert privacy.delete_profile(session, account.id, profile)
    with db.read() as session:
        assert session.get(InboundReport, ("", report)) is None


def test_processed_reports_are_pruned_after_their_retention(db, account) -> None:
    profile, email = customer(db, account.id)
    sent = sent_email(db, account.id, profile, email)
    report = _store(db, _postfix(sent))
    process(db)
    processed = _outcome(db, report).processed_at
    assert processed is not None
    with db.write() as session:
        assert inbound.prune(session, now=processed + inbound.RETENTION / 2) == 0
    with db.write() as session:
        assert inbound.prune(session, now=processed + inbound.RETENTION * 2) >= 1
    with db.read() as session:
        assert session.get(InboundReport, ("", report)) is None


def test_a_report_about_a_send_that_never_left_is_ignored(db, client, account) -> None:
    profile, email = customer(db, account.id)
    with db.write() as session:
        planned = plan_send(session, account.id, profile_id=profile).send
        message_id = planned.message_id
    original = fx.original_headers(message_id=message_id, rcpt=email)
    report = _store(db, fx.postfix_dsn(to="news@shop.example", rcpt=email, original=original))
    process(db)
    assert _outcome(db, report).outcome == "send not attempted (planned)"
    assert suppressions(client, account, profile) == []


def test_a_hard_bounce_after_a_soft_one_counts_and_a_soft_one_after_it_does_not(db, client, account) -> None:
    profile, email = customer(db, account.id)
    sent = sent_email(db, account.id, profile, email)
    _soft_bounce(db, sent)
    process(db)
    hard = _store(db, _postfix(sent))
    process(db)
    late_soft = _store(db, _postfix(sent, status="4.4.1", diagnostic="421 4.4.1 <{rcpt}>: timed out"))
    process(db)
    assert _outcome(db, hard).outcome == "hard bounce"
    assert _outcome(db, late_soft).outcome == "soft bounce (already recorded)"
    types = sorted(props["Bounce Type"] for _name, props in events(client, account, profile))
    assert types == ["hard", "soft"]
    assert suppressions(client, account, profile) == ["HARD_BOUNCE"]
