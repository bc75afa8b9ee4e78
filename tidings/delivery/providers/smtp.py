"""Email through an SMTP relay (aiosmtplib): a pool of connections, each reused for many
messages; concurrency that grows while the relay answers 250 and halves on a 4xx (AIMD); an
optional rate limit.

Each message is one transaction, `sendmail(sender, [recipient], content)` with the bytes
stored on the ledger row, never re-serialised. What the relay answered decides the outcome:

- a 4xx at any step: `RetryableSendError` ("smtp 451 4.7.1"), the row waits and is retried;
- a 5xx to RCPT TO: `RecipientRejected` with the enhanced status (a hard bounce);
- a 5xx to MAIL FROM or DATA: `PermanentSendError`;
- the relay unreachable (refused, timed out, TLS or login failed) or the connection lost in a
  transaction: `RetryableSendError`, so messages wait and nothing is lost (a message whose
  DATA had been sent may then go twice: SMTP cannot tell, the ledger's resend policy owns it).

The relay's final reply (`2.0.0 Ok: queued as 4Xyz`) is the provider reference.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urlsplit

import aiosmtplib

from tidings.delivery.provider import (
    OutboundMessage,
    PermanentSendError,
    RecipientRejected,
    RetryableSendError,
    SendError,
)

if TYPE_CHECKING:
    from tidings.config import Settings

_ENHANCED = re.compile(r"^([245]\.\d{1,3}\.\d{1,3})\b")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass(frozen=True)
class SmtpRelay:
    """Where to connect, from `TIDINGS_SMTP_URL`."""

    hostname: str
    port: int
    use_tls: bool = False  # smtps://: TLS from the first byte
    start_tls: bool = False  # smtp://...?starttls=true: upgrade, refusing a relay that cannot
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpRelay:
        """`smtp://[user:password@]host[:port][?starttls=true]` or `smtps://...` (credentials
        URL-encoded). Ports default to 25 (587 with STARTTLS) and 465 for smtps."""
        parts = urlsplit(url.strip())
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"TIDINGS_SMTP_URL must start with smtp:// or smtps://, not {parts.scheme!r}")
        if not parts.hostname:
            raise ValueError("TIDINGS_SMTP_URL names no host")
        options = dict(parse_qsl(parts.query, keep_blank_values=True))
        unknown = set(options) - {"starttls"}
        if unknown:
            raise ValueError(f"TIDINGS_SMTP_URL: unknown option {sorted(unknown)[0]!r} (known: starttls)")
        starttls = options.get("starttls", "false").lower()
        if starttls not in _TRUE | _FALSE:
            raise ValueError(f"TIDINGS_SMTP_URL: starttls must be true or false, not {starttls!r}")
        use_tls = parts.scheme == "smtps"
        start_tls = starttls in _TRUE
        if use_tls and start_tls:
            raise ValueError("TIDINGS_SMTP_URL: smtps:// is TLS already; starttls applies to smtp://")
        try:
            port = parts.port
        except ValueError:
            raise ValueError("TIDINGS_SMTP_URL: the port is not a number") from None
        return cls(
            hostname=parts.hostname,
            port=port or (465 if use_tls else 587 if start_tls else 25),
            use_tls=use_tls,
            start_tls=start_tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )


class _Connection:
    __slots__ = ("client", "opened", "sent")

    def __init__(self, client: aiosmtplib.SMTP) -> None:
        self.client = client
        self.opened = time.monotonic()
        self.sent = 0


class SmtpProvider:
    name = "smtp"

    def __init__(
        self,
        relay: SmtpRelay,
        *,
        max_connections: int = 8,
        rate_per_second: float = 0.0,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
        messages_per_connection: int = 1000,
        connection_seconds: float = 300.0,
        initial_concurrency: int = 2,
    ) -> None:
        self.relay = relay
        self.concurrency = max_connections
        self.timeout = timeout
        self.tls_context = tls_context
        self.messages_per_connection = messages_per_connection
        self.connection_seconds = connection_seconds
        self.window = float(min(max(initial_concurrency, 1), max_connections))  # the AIMD window
        self._interval = 1.0 / rate_per_second if rate_per_second > 0 else 0.0
        self._next_slot = 0.0
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()
        self._in_flight = 0
        self._gate: asyncio.Condition | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._quitting: set[asyncio.Future[None]] = set()
        self.connections_opened = 0  # for tests and the benchmark

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpProvider:
        if not settings.smtp_url:
            raise ValueError("TIDINGS_EMAIL_PROVIDER=smtp needs TIDINGS_SMTP_URL")
        return cls(
            SmtpRelay.from_url(settings.smtp_url),
            max_connections=settings.smtp_max_connections,
            rate_per_second=settings.smtp_rate_per_second,
            timeout=settings.smtp_timeout_seconds,
        )

    async def send(self, message: OutboundMessage) -> str:
        if not message.sender:
            raise PermanentSendError("smtp no envelope sender", "the message has no sender (return path)")
        await self._enter()
        try:
            await self._pace()
            reference = await self._transaction(message)
        except RetryableSendError as error:
            if error.reason.startswith(("smtp 4", "smtp timeout")):
                self.window = max(1.0, self.window / 2)  # multiplicative decrease
            raise
        finally:
            await self._leave()
        self.window = min(float(self.concurrency), self.window + 1.0 / self.window)  # additive increase
        return reference

    async def close(self) -> None:
        """QUIT every connection (and drop any still busy)."""
        idle, self._idle = self._idle, []
        await asyncio.gather(*(self._quit(conn) for conn in idle), *self._quitting)
        for conn in list(self._open):
            conn.client.close()
        self._open.clear()

    # The transaction

    async def _transaction(self, message: OutboundMessage) -> str:
        conn = await self._connection()
        try:
            _refused, reply = await conn.client.sendmail(
                message.sender or "", [message.recipient], message.content
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            refusal = error.recipients[0]
            self._release(conn)
            raise _refused_error("RCPT TO", refusal.code, refusal.message) from None
        except aiosmtplib.SMTPSenderRefused as error:
            self._release(conn)
            raise _refused_error("MAIL FROM", error.code, error.message) from None
        except aiosmtplib.SMTPDataError as error:
            self._release(conn)
            raise _refused_error("DATA", error.code, error.message) from None
        except aiosmtplib.SMTPResponseException as error:  # to EHLO: the relay, not the message
            self._discard(conn)
            raise RetryableSendError("relay unreachable", f"{error.code} {error.message}") from None
        except aiosmtplib.SMTPTimeoutError as error:
            self._discard(conn)
            raise RetryableSendError(
                "smtp timeout", str(error) or "the relay did not answer in time"
            ) from None
        except (aiosmtplib.SMTPException, OSError) as error:  # disconnected, a broken socket
            self._discard(conn)
            raise RetryableSendError("smtp connection lost", str(error) or type(error).__name__) from None
        except ValueError as error:  # an address aiosmtplib will not write into a command
            self._release(conn)
            raise PermanentSendError("smtp invalid address", str(error)) from None
        conn.sent += 1
        self._release(conn)
        return reply[:255]

    # Connections

    async def _connection(self) -> _Connection:
        while self._idle:
            conn = self._idle.pop()
            if conn.client.is_connected:
                return conn
            self._discard(conn)
        client = aiosmtplib.SMTP(
            hostname=self.relay.hostname,
            port=self.relay.port,
            use_tls=self.relay.use_tls,
            start_tls=self.relay.start_tls,
            username=self.relay.username,
            password=self.relay.password,
            timeout=self.timeout,
            tls_context=self.tls_context,
        )
        try:
            await client.connect()
        except aiosmtplib.SMTPAuthenticationError as error:
            client.close()
            raise RetryableSendError(
                "relay unreachable", f"login refused: {error.code} {error.message}"
            ) from None
        except (TimeoutError, aiosmtplib.SMTPException, OSError, ssl.SSLError) as error:
            client.close()
            raise RetryableSendError("relay unreachable", str(error) or type(error).__name__) from None
        conn = _Connection(client)
        self._open.add(conn)
        self.connections_opened += 1
        return conn

    def _release(self, conn: _Connection) -> None:
        """Back to the pool, unless it is closed, old, well used, or more than the window needs."""
        spent = (
            conn.sent >= self.messages_per_connection
            or time.monotonic() - conn.opened > self.connection_seconds
            or len(self._idle) >= int(self.window)
        )
        if not conn.client.is_connected:
            self._discard(conn)
        elif spent:
            self._open.discard(conn)
            task = asyncio.ensure_future(self._quit(conn))
            self._quitting.add(task)
            task.add_done_callback(self._quitting.discard)
        else:
            self._idle.append(conn)

    def _discard(self, conn: _Connection) -> None:
        self._open.discard(conn)
        conn.client.close()

    async def _quit(self, conn: _Connection) -> None:
        self._open.discard(conn)
        try:
            await asyncio.wait_for(conn.client.quit(), timeout=min(self.timeout, 5.0))
        except (TimeoutError, aiosmtplib.SMTPException, OSError):
            conn.client.close()

    # Concurrency and rate

    async def _enter(self) -> None:
        loop = asyncio.get_running_loop()
        if self._gate is None or self._loop is not loop:
            # first use, or a new event loop (asyncio.run again): connections and the gate
            # belong to the loop they were made in
            for conn in [*self._idle, *self._open]:
                with contextlib.suppress(RuntimeError):  # its loop may be closed already
                    conn.client.close()
            self._idle, self._open, self._in_flight = [], set(), 0
            self._gate, self._loop = asyncio.Condition(), loop
        async with self._gate:
            await self._gate.wait_for(lambda: self._in_flight < int(self.window))
            self._in_flight += 1

    async def _leave(self) -> None:
        assert self._gate is not None
        async with self._gate:
            self._in_flight -= 1
            self._gate.notify_all()

    async def _pace(self) -> None:
        if not self._interval:
            return
        now = time.monotonic()
        slot = max(now, self._next_slot)
        self._next_slot = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)


def _refused_error(step: str, code: int, text: str) -> SendError:
    """The error for a reply of `code` to `step` (see the module's docstring)."""
    text = " ".join(str(text).split())
    enhanced = _ENHANCED.match(text)
    status = enhanced.group(1) if enhanced else None
    reason = f"smtp {code} {status}" if status else f"smtp {code}"
    detail = f"{step}: {code} {text}"
    if 400 <= code < 500:
        return RetryableSendError(reason, detail)
    if 500 <= code < 600:
        if step == "RCPT TO":
            return RecipientRejected(reason, detail, status=status)
        return PermanentSendError(reason, detail)
    return RetryableSendError(reason, detail)  # a reply SMTP does not define here: try later
