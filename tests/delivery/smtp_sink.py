"""A local SMTP relay for the tests (aiosmtpd on 127.0.0.1): it keeps every message as it
arrived and answers from a fault table, step by step."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    sender: str
    recipients: list[str]
    content: bytes
    peer: Any


@dataclass
class Sink:
    """`faults[(step, address)]` is a list of replies given, one per time, before the relay
    behaves (step: MAIL (by sender), RCPT or DATA (by recipient))."""

    received: list[Received] = field(default_factory=list)
    faults: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    peers: set[Any] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fault(self, step: str, address: str, *replies: str) -> None:
        self.faults[(step, address)] = list(replies)

    def _fault(self, step: str, address: str) -> str | None:
        with self.lock:
            replies = self.faults.get((step, address))
            return replies.pop(0) if replies else None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # type: ignore[no-untyped-def]
        self.peers.add(session.peer)
        reply = self._fault("MAIL", address)
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        reply = self._fault("RCPT", address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        reply = self._fault("DATA", envelope.rcpt_tos[0])
        if reply:
            return reply
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content, session.peer)
            )
            number = len(self.received)
        return f"250 2.0.0 Ok: queued as Q{number:05d}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Relay:
    sink: Sink
    port: int
    client_tls: ssl.SSLContext | None = None


def _authenticate(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"ada@example.com",
        b"p@ss:w/rd %",
    )
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers (535 on failure)


@contextmanager
def relay(*, tls: str | None = None, auth: bool = False) -> Iterator[Relay]:
    """tls: None (plain), "starttls" (required before MAIL), "implicit" (TLS from the start)."""
    sink = Sink()
    port = free_port()
    kwargs: dict[str, Any] = {}
    client_tls = None
    if tls:
        ca = trustme.CA()
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(server_context)
        client_tls = ssl.create_default_context()
        ca.configure_trust(client_tls)
        if tls == "starttls":
            kwargs.update(tls_context=server_context, require_starttls=True)
        else:
            kwargs.update(ssl_context=server_context)
    if auth:
        kwargs.update(authenticator=_authenticate, auth_required=True, auth_require_tls=bool(tls))
    controller = Controller(sink, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield Relay(sink, port, client_tls)
    finally:
        controller.stop()
