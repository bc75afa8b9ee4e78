"""The bytes of an email, read back by Python's own parser (policy default, as a mail client
would), and a property test: any unicode in a subject, a name or a body comes back as it went
in, and never makes a header of its own."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.delivery.mime import EmailParts, InvalidAddress, build_email, clean_header, clean_name

WHEN = dt.datetime(2026, 12, 6, 22, 30, 5, tzinfo=dt.UTC)


def parts(**changes: object) -> EmailParts:
    base: dict[str, object] = {
        "message_id": "<01jeq4.abc123@mail.example.com>",
        "from_email": "news@mail.example.com",
        "from_name": "Example Shop",
        "to_email": "ada@example.org",
        "to_name": "Ada Lovelace",
        "subject": "Your December picks",
        "html": "<p>Hello Ada</p>\n",
        "text": "Hello Ada\n",
        "date": WHEN,
        "reply_to": "help@example.com",
        "list_unsubscribe_url": "https://t.example.com/p/unsubscribe?t=tok",
        "list_unsubscribe_mailto": "mailto:unsub+tok@mail.example.com",
        "feedback_id": "camp1:msg1:ABC123:tidings",
        "send_id": "01JEQ4ABC",
    }
    base.update(changes)
    return EmailParts(**base)  # type: ignore[arg-type]


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def content(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def test_every_header_and_both_parts_read_back() -> None:
    raw = build_email(
        parts(
            subject="Les nouveautés de décembre ☃",
            from_name="Boutique Éloïse",
            to_name='Ada "the Countess" Lovelace',
            html="<p>Bonjour Ada, voilà vos sélections</p>\n",
            text="Bonjour Ada, voilà vos sélections\n",
        )
    )
    message = parse(raw)
    assert message.defects == []
    assert [name for name, _ in message.items()] == [
        "Message-ID", "Date", "From", "To", "Reply-To", "Subject", "List-Unsubscribe",
        "List-Unsubscribe-Post", "Feedback-ID", "X-Tidings-Send-Id", "MIME-Version", "Content-Type",
    ]  # fmt: skip
    assert message["Message-ID"] == "<01jeq4.abc123@mail.example.com>"
    assert message["Date"].datetime == WHEN
    sender = message["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("Boutique Éloïse", "news@mail.example.com")
    to = message["To"].addresses[0]
    assert (to.display_name, to.addr_spec) == ('Ada "the Countess" Lovelace', "ada@example.org")
    assert message["Reply-To"].addresses[0].addr_spec == "help@example.com"
    assert message["Subject"] == "Les nouveautés de décembre ☃"
    assert message["List-Unsubscribe"] == (
        "<https://t.example.com/p/unsubscribe?t=tok>, <mailto:unsub+tok@mail.example.com>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Feedback-ID"] == "camp1:msg1:ABC123:tidings"
    assert message["X-Tidings-Send-Id"] == "01JEQ4ABC"
    assert message["MIME-Version"] == "1.0"
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.iter_parts()
    assert plain.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    assert plain.get_content_charset() == "utf-8" and plain.defects == [] and html.defects == []
    assert content(message, "plain") == "Bonjour Ada, voilà vos sélections\n"
    assert content(message, "html") == "<p>Bonjour Ada, voilà vos sélections</p>\n"


def test_seven_bit_clean_crlf_and_short_lines() -> None:
    raw = build_email(parts(html="<td>" + "é" * 3000 + "</td>", text="x" * 5000))
    raw.decode("ascii")  # 7-bit: no 8BITMIME needed anywhere on the way
    lines = raw.split(b"\r\n")
    assert b"\n" not in b"".join(lines) and b"\r" not in b"".join(lines)
    assert max(map(len, lines)) <= 998
    assert b"Content-Transfer-Encoding: quoted-printable" in raw
    message = parse(raw)
    assert content(message, "plain") == "x" * 5000
    assert content(message, "html") == "<td>" + "é" * 3000 + "</td>"


def test_without_optional_headers_no_list_unsubscribe_post() -> None:
    message = parse(
        build_email(parts(reply_to=None, list_unsubscribe_url=None, feedback_id=None, send_id=None))
    )
    assert "List-Unsubscribe" in message  # the mailto alone
    for name in ("Reply-To", "List-Unsubscribe-Post", "Feedback-ID", "X-Tidings-Send-Id"):
        assert name not in message


def test_header_injection_is_impossible() -> None:
    raw = build_email(
        parts(
            subject="Hi\r\nBcc: victim@example.net",
            from_name="Shop\nX-Evil: 1",
            to_name="Ada\r\n\r\n<html>",
            reply_to_name="Help\rDesk",
            headers={"X-Campaign": "c1\r\nX-Injected: yes"},
        )
    )
    message = parse(raw)
    for name in ("Bcc", "X-Evil", "X-Injected"):
        assert name not in message
    assert message["Subject"] == "Hi Bcc: victim@example.net"
    assert message["From"].addresses[0].display_name == "Shop X-Evil: 1"
    assert message["X-Campaign"] == "c1 X-Injected: yes"


@pytest.mark.parametrize(
    "address",
    ["no-at-sign", "a@b@", "ada@exa mple.org", "ada\r\n@example.org", "josé@example.org", "ada@-bad-.org"],
)
def test_addresses_that_cannot_be_written_are_refused(address: str) -> None:
    with pytest.raises(InvalidAddress):
        build_email(parts(to_email=address))


def test_an_internationalised_domain_goes_in_punycode() -> None:
    message = parse(build_email(parts(to_email="ada@bücher.example")))
    assert message["To"].addresses[0].addr_spec == "ada@xn--bcher-kva.example"
    local = parse(build_email(parts(from_email="tidings@localhost")))  # the development default
    assert local["From"].addresses[0].addr_spec == "tidings@localhost"


def test_bad_header_names_and_urls_are_refused() -> None:
    with pytest.raises(ValueError):
        build_email(parts(headers={"Bad Name": "x"}))
    with pytest.raises(ValueError):
        build_email(parts(list_unsubscribe_url="https://x.example/<a>"))


@pytest.mark.parametrize(
    "subject",
    [
        "=?utf-8?q?not_an_encoded_word?=",  # looks like one: sent encoded, read back literally
        "x" * 2000,  # no space to fold at
        "a  b   c",  # runs of spaces kept
        "word " * 60,  # folded at spaces
        "\u202eevil\u202c \U0001f600 \u00a0nbsp",
    ],
)
def test_subjects_that_need_care_come_back_as_they_were(subject: str) -> None:
    raw = build_email(parts(subject=subject))
    assert max(map(len, raw.split(b"\r\n"))) <= 998
    assert parse(raw)["Subject"] == clean_header(subject)


def test_names_that_look_like_encoded_words_or_need_quotes() -> None:
    message = parse(build_email(parts(from_name="=?utf-8?b?Zm9v?=", to_name='O\'Neil, "Jr." \\ <x@y>')))
    assert message["From"].addresses[0].display_name == "=?utf-8?b?Zm9v?="
    to = message["To"].addresses[0]
    assert (to.display_name, to.addr_spec) == ('O\'Neil, "Jr." \\ <x@y>', "ada@example.org")


def test_same_parts_same_bytes() -> None:
    assert build_email(parts()) == build_email(parts())


_text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=300)


@settings(
    max_examples=int(os.environ.get("TIDINGS_HYPOTHESIS_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(subject=_text, from_name=_text, to_name=_text, text=_text, html=_text, extra=_text)
def test_any_unicode_round_trips_and_never_adds_a_header(
    subject: str, from_name: str, to_name: str, text: str, html: str, extra: str
) -> None:
    raw = build_email(
        parts(
            subject=subject,
            from_name=from_name,
            to_name=to_name,
            text=text,
            html=html,
            headers={"X-Extra": extra},
        )
    )
    assert max(map(len, raw.split(b"\r\n"))) <= 998
    message = parse(raw)
    assert message.defects == []
    assert len(message.keys()) == 13
    assert message["Subject"] == clean_header(subject)
    assert message["X-Extra"] == clean_header(extra)
    assert message["From"].addresses[0].display_name == clean_name(from_name)
    assert message["To"].addresses[0].display_name == clean_name(to_name)
    assert message["To"].addresses[0].addr_spec == "ada@example.org"
    normalised = lambda s: s.replace("\r\n", "\n").replace("\r", "\n")  # noqa: E731
    assert content(message, "plain") == normalised(text)
    assert content(message, "html") == normalised(html)
