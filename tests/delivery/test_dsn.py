"""Classification and parsing of what comes back (pure functions: no database)."""

from __future__ import annotations

import pytest

from tests.delivery import bounce_fixtures as fx
from tidings.db.ids import ulid
from tidings.delivery import dsn, verp
from tidings.delivery.dsn import BounceType, ReportKind


@pytest.mark.parametrize(
    ("status", "text", "expected"),
    [
        ("5.1.1", None, BounceType.HARD),
        ("4.4.1", None, BounceType.SOFT),
        ("5.2.2", "552 5.2.2 mailbox full", BounceType.SOFT),  # a full mailbox: soft, as Klaviyo counts it
        (None, "smtp; 550 5.7.1 Message rejected as spam", BounceType.HARD),
        (None, "421 Too many connections", BounceType.SOFT),
        (None, "Sorry, no mailbox here by that name. The user does not exist.", BounceType.HARD),
        (None, "Mailbox is full, try later", BounceType.SOFT),
        (None, "Thank you for your message", None),
        ("2.0.0", "250 OK", None),
    ],
)
def test_classify(status, text, expected) -> None:  # type: ignore[no-untyped-def]
    assert dsn.classify(status, text) is expected


def test_return_paths_round_trip_and_reject_tampering() -> None:
    send_id = ulid()
    address = verp.return_path("aB3xYz", send_id, "secret", domain="bounce.example")
    local = address.split("@")[0]
    assert len(local) <= 64 and local == local.lower()
    assert verp.parse_return_path(address, "secret") == ("aB3xYz", send_id)
    assert verp.parse_return_path(address.upper(), "secret") == ("aB3xYz", send_id)  # case folded in transit
    assert verp.parse_return_path(address, "other secret") is None
    other_send = verp.return_path("aB3xYz", ulid(), "secret", domain="bounce.example")
    spliced = local.rsplit(".", 1)[0] + "." + other_send.split("@")[0].rsplit(".", 1)[1] + "@bounce.example"
    assert verp.parse_return_path(spliced, "secret") is None
    assert verp.parse_return_path("news@shop.example", "secret") is None
    assert verp.parse_return_path("bounces+garbage@bounce.example", "secret") is None


def test_a_postfix_dsn_with_the_original_headers() -> None:
    original = fx.original_headers(
        message_id="<m1@shop.example>", rcpt="a@example.net", send_id="01M96QC1VAAR4G127WRQMM5YR4"
    )
    report = dsn.parse(fx.postfix_dsn(to="bounces+x@b.example", rcpt="a@example.net", original=original))
    assert report.kind is ReportKind.BOUNCE
    assert report.message_ids == ["<m1@shop.example>"] and report.send_ids == ["01M96QC1VAAR4G127WRQMM5YR4"]
    [block] = report.recipients
    assert (block.action, block.recipient, block.status, block.bounce_type) == (
        "failed",
        "a@example.net",
        "5.1.1",
        BounceType.HARD,
    )
    assert block.diagnostic and "User unknown" in block.diagnostic  # the folded line is unfolded


def test_a_delayed_dsn_is_not_a_bounce() -> None:
    original = fx.original_headers(message_id="<m1@shop.example>", rcpt="a@example.net")
    raw = fx.exim_dsn(
        to="x@shop.example", rcpt="a@example.net", original=original, action="delayed", status="4.0.0"
    )
    assert dsn.parse(raw).kind is ReportKind.NONE


def test_an_arf_report() -> None:
    original = fx.original_headers(message_id="<m2@shop.example>", rcpt="b@yahoo.example")
    report = dsn.parse(
        fx.yahoo_arf(
            to="fbl@b.example", rcpt="b@yahoo.example", original=original, mail_from="bounces+q@b.example"
        )
    )
    assert report.kind is ReportKind.COMPLAINT and report.feedback_type == "abuse"
    assert report.complained_recipient == "b@yahoo.example"
    assert "bounces+q@b.example" in report.addresses and report.message_ids == ["<m2@shop.example>"]


def test_an_auto_reply_and_noise_are_not_reports() -> None:
    assert dsn.parse(fx.auto_reply(to="bounces+x@b.example")).kind is ReportKind.NONE
    assert dsn.parse(b"Subject: hello\r\n\r\nJust saying hi.\r\n").kind is ReportKind.NONE
    assert dsn.parse(b"").kind is ReportKind.NONE
    assert dsn.parse(b"\xff\xfe garbage \x00 without headers").kind is ReportKind.NONE


def test_a_persons_reply_to_the_return_path_is_not_a_bounce() -> None:
    reply = (
        b"From: Ann <ann@example.net>\r\nTo: bounces+x@b.example\r\nSubject: Re: Our winter sale\r\n\r\n"
        b"I would like 550 of the blue ones. The old address does not exist anymore, write to me here.\r\n"
    )
    assert dsn.parse(reply).kind is ReportKind.NONE
    bounce = fx.qmail_bounce(to="bounces+x@b.example", rcpt="a@example.net")
    assert dsn.parse(bounce).kind is ReportKind.BOUNCE
    without_return_path = bounce.replace(b"Return-Path: <>\r\n", b"")
    assert dsn.parse(without_return_path).kind is ReportKind.BOUNCE  # from MAILER-DAEMON
