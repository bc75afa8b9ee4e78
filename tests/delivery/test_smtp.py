"""The SMTP provider against a local relay (aiosmtpd on 127.0.0.1): plain, STARTTLS and TLS,
AUTH, a pool of reused connections, every reply classified by the step it answered, a relay
that is down, the bytes delivered as given, and a DKIM signature that survives the trip."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Coroutine
from typing import Any

import dkim
import pytest

from tidings.config import Settings
from tidings.delivery import dkim as tdkim
from tidings.delivery.mime import EmailParts, build_email
from tidings.delivery.provider import (
    OutboundMessage,
    PermanentSendError,
    RecipientRejected,
    RetryableSendError,
)
from tidings.delivery.providers.smtp import SmtpProvider, SmtpRelay
from tidings.delivery.tables import Channel

from .smtp_sink import Relay, free_port, relay

SENDER = "bounces+01abc@mail.example.com"


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coroutine)


def outbound(n: int = 0, *, recipient: str | None = None, content: bytes | None = None) -> OutboundMessage:
    to = recipient or f"user{n}@example.org"
    raw = content or build_email(
        EmailParts(
            message_id=f"<m{n}.abc@mail.example.com>",
            from_email="news@mail.example.com",
            to_email=to,
            subject=f"Message {n} ☃",
            html=f"<p>Hello {n}</p>\n.leading dot\n",
            text=f"Hello {n}\n.leading dot\n",
            date=dt.datetime(2026, 12, 6, 22, 0, tzinfo=dt.UTC),
            list_unsubscribe_url="https://t.example.com/p/unsubscribe?t=x",
        )
    )
    return OutboundMessage(
        account_id="ABC123",
        send_id=f"S{n}",
        idempotency_key=f"k{n}",
        channel=Channel.EMAIL,
        message_id=f"<m{n}.abc@mail.example.com>",
        content=raw,
        content_sha256="",
        recipient=to,
        sender=SENDER,
    )


def provider(
    r: Relay, scheme: str = "smtp", query: str = "", userinfo: str = "", **kwargs: Any
) -> SmtpProvider:
    relay_ = SmtpRelay.from_url(f"{scheme}://{userinfo}127.0.0.1:{r.port}{query}")
    return SmtpProvider(relay_, tls_context=r.client_tls, **kwargs)


async def send_all(p: SmtpProvider, messages: list[OutboundMessage]) -> list[Any]:
    try:
        return await asyncio.gather(*(p.send(m) for m in messages), return_exceptions=True)
    finally:
        await p.close()


@pytest.mark.parametrize(("tls", "scheme", "query"), [(None, "smtp", ""), ("starttls", "smtp", "?starttls=true"),
                                                      ("implicit", "smtps", "")])  # fmt: skip
def test_delivers_the_given_bytes_unchanged(tls: str | None, scheme: str, query: str) -> None:
    with relay(tls=tls) as r:
        messages = [outbound(n) for n in range(5)]
        refs = run(send_all(provider(r, scheme, query), messages))
    assert all(isinstance(ref, str) and ref.startswith("2.0.0 Ok: queued as Q") for ref in refs), refs
    assert len(set(refs)) == 5
    by_recipient = {m.recipients[0]: m for m in r.sink.received}
    for message in messages:
        got = by_recipient[message.recipient]
        assert got.content == message.content  # byte for byte, dot-stuffing undone
        assert got.sender == SENDER


def test_auth_with_url_encoded_credentials_over_starttls() -> None:
    with relay(tls="starttls", auth=True) as r:
        good = provider(r, query="?starttls=true", userinfo="ada%40example.com:p%40ss%3Aw%2Frd%20%25@")
        assert run(send_all(good, [outbound()]))[0].startswith("2.0.0")
        bad = provider(r, query="?starttls=true", userinfo="ada%40example.com:wrong@")
        (error,) = run(send_all(bad, [outbound(1)]))
    assert isinstance(error, RetryableSendError) and error.reason == "relay unreachable"
    assert "535" in str(error)
    assert len(r.sink.received) == 1


def test_plain_relay_when_starttls_is_required_is_unreachable_not_lost() -> None:
    with relay() as r:
        (error,) = run(send_all(provider(r, query="?starttls=true"), [outbound()]))
    assert isinstance(error, RetryableSendError) and error.reason == "relay unreachable"


def test_tls_to_an_untrusted_certificate_is_refused() -> None:
    with relay(tls="implicit") as r:
        p = SmtpProvider(SmtpRelay.from_url(f"smtps://127.0.0.1:{r.port}"))  # system CAs only
        (error,) = run(send_all(p, [outbound()]))
    assert isinstance(error, RetryableSendError) and error.reason == "relay unreachable"
    assert r.sink.received == []


def test_many_messages_over_few_connections() -> None:
    with relay() as r:
        p = provider(r, max_connections=3)
        refs = run(send_all(p, [outbound(n) for n in range(60)]))
    assert all(isinstance(ref, str) for ref in refs), refs
    assert len(r.sink.received) == 60
    assert p.connections_opened <= 3 and len(r.sink.peers) <= 3
    assert p.concurrency == 3


def test_window_grows_on_250_and_halves_on_4xx() -> None:
    async def scenario(r: Relay) -> tuple[float, float, float]:
        p = provider(r, max_connections=8)
        start = p.window
        for n in range(40):
            await p.send(outbound(n))
        grown = p.window
        r.sink.fault("RCPT", "slow@example.org", "451 4.7.1 Try again later")
        with pytest.raises(RetryableSendError):
            await p.send(outbound(99, recipient="slow@example.org"))
        shrunk = p.window
        await p.close()
        return start, grown, shrunk

    with relay() as r:
        start, grown, shrunk = run(scenario(r))
    assert start == 2 and grown == 8 and shrunk == 4


@pytest.mark.parametrize(
    ("step", "reply", "error", "reason", "status"),
    [
        ("MAIL", "451 4.3.0 Mail server temporarily rejected", RetryableSendError, "smtp 451 4.3.0", None),
        ("RCPT", "450 4.2.0 Mailbox busy", RetryableSendError, "smtp 450 4.2.0", None),
        ("DATA", "452 4.3.1 Insufficient storage", RetryableSendError, "smtp 452 4.3.1", None),
        ("MAIL", "553 5.7.1 Sender address rejected", PermanentSendError, "smtp 553 5.7.1", None),
        ("RCPT", "550 5.1.1 No such user", RecipientRejected, "smtp 550 5.1.1", "5.1.1"),
        ("RCPT", "551 User not local", RecipientRejected, "smtp 551", None),
        ("DATA", "554 5.6.0 Message content rejected", PermanentSendError, "smtp 554 5.6.0", None),
    ],
)
def test_replies_are_classified_by_step(
    step: str, reply: str, error: type[Exception], reason: str, status: str | None
) -> None:
    address = SENDER if step == "MAIL" else "user0@example.org"
    with relay() as r:
        r.sink.fault(step, address, reply)  # once: the next message is taken
        p = provider(r, max_connections=1, initial_concurrency=1)
        failure, after = run(send_all(p, [outbound(0), outbound(1)]))
    assert type(failure) is error, failure
    assert failure.reason == reason
    assert {"MAIL": "MAIL FROM", "RCPT": "RCPT TO", "DATA": "DATA"}[step] in str(failure)
    if isinstance(failure, RecipientRejected):
        assert failure.status == status
    # after the refusal (and aiosmtplib's RSET) the same connection takes the next message
    assert isinstance(after, str), after
    assert [m.recipients for m in r.sink.received] == [["user1@example.org"]]
    assert p.connections_opened == 1


def test_421_closes_the_connection_and_the_next_message_reconnects() -> None:
    async def scenario(r: Relay) -> list[Any]:
        p = provider(r, max_connections=1, initial_concurrency=1)
        results: list[Any] = []
        for message in (outbound(0), outbound(1), outbound(2)):
            try:
                results.append(await p.send(message))
            except RetryableSendError as error:
                results.append(error)
        await p.close()
        return [*results, p.connections_opened]

    with relay() as r:
        r.sink.fault("RCPT", "user1@example.org", "421 4.3.2 Service shutting down")
        first, second, third, opened = run(scenario(r))
    assert isinstance(first, str) and isinstance(third, str)
    assert isinstance(second, RetryableSendError) and second.reason == "smtp 421 4.3.2"
    assert opened == 2


def test_relay_down_is_retryable_and_nothing_is_lost() -> None:
    p = SmtpProvider(SmtpRelay.from_url(f"smtp://127.0.0.1:{free_port()}"), timeout=2)
    (error,) = run(send_all(p, [outbound()]))
    assert isinstance(error, RetryableSendError) and error.reason == "relay unreachable"


def test_a_dkim_signed_message_verifies_after_the_relay() -> None:
    pem, txt = tdkim.generate_key(1024)
    signed = tdkim.DkimSigner("mail.example.com", "tidings", pem).sign(outbound().content)
    with relay(tls="starttls") as r:
        run(send_all(provider(r, query="?starttls=true"), [outbound(content=signed)]))
    (got,) = r.sink.received
    assert got.content == signed
    assert dkim.verify(got.content, dnsfunc=lambda name, timeout=5: txt.encode())


def test_a_message_without_envelope_sender_is_refused() -> None:
    message = outbound()
    bare = OutboundMessage(**{**message.__dict__, "sender": None})
    with relay() as r:
        (error,) = run(send_all(provider(r), [bare]))
    assert isinstance(error, PermanentSendError)


def test_settings_make_the_provider() -> None:
    settings = Settings(
        smtp_url="smtps://ada%40example.com:p%40ss%3Aw@relay.example.com",
        smtp_max_connections=5,
        smtp_rate_per_second=10,
        smtp_timeout_seconds=7,
    )
    p = SmtpProvider.from_settings(settings)
    assert p.concurrency == 5 and p.timeout == 7
    assert p.relay == SmtpRelay(
        "relay.example.com", 465, use_tls=True, username="ada@example.com", password="p@ss:w"
    )
    assert SmtpRelay.from_url("smtp://relay.example.com?starttls=true").port == 587
    assert SmtpRelay.from_url("smtp://relay.example.com").port == 25


@pytest.mark.parametrize(
    "url",
    ["http://relay.example.com", "smtp://", "smtp://relay.example.com?tls=yes", "smtp://relay.example.com?starttls=maybe",
     "smtps://relay.example.com?starttls=true", "smtp://relay.example.com:port"],
)  # fmt: skip
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        SmtpRelay.from_url(url)


def test_rate_limit_spaces_sends() -> None:
    with relay() as r:
        p = provider(r, rate_per_second=1000)
        refs = run(send_all(p, [outbound(n) for n in range(20)]))
    assert all(isinstance(ref, str) for ref in refs)
    assert p._next_slot > 0  # each send took a slot 1 ms after the previous one


def test_the_same_provider_works_in_a_second_event_loop() -> None:
    with relay() as r:
        p = provider(r)
        assert isinstance(run(p.send(outbound(0))), str)  # no close: the loop ends with it open
        assert isinstance(run(send_all(p, [outbound(1)]))[0], str)
    assert len(r.sink.received) == 2
