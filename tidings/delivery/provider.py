"""What a delivery provider (an SMTP relay, an SMS gateway, a push service) implements.

A provider is asynchronous: a delivery worker keeps up to `concurrency` messages in flight
with it on one event loop. It is given the bytes stored when the row was first claimed, and
it answers with its reference for the message (the relay's queue id, Twilio's SID, the outbox
file), or raises one of the errors below. It never writes to the database: the worker records
the outcome.

Providers live in `tidings/delivery/providers/`; `providers.build` makes the one a setting names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tidings.delivery.tables import Channel


@dataclass(frozen=True)
class OutboundMessage:
    """One attempt of one ledger row: always the bytes stored when the row first went to
    `sending`, so a retry or a resend is byte-identical (same Message-ID, same hash).

    email: `content` is the whole RFC 5322 message (DKIM-signed), `recipient` the address,
    `sender` the envelope sender (the VERP return path, else the From address);
    sms: `content` the UTF-8 text, `recipient` the E.164 number;
    push: `content` the JSON payload (tidings.delivery.messages.PushPayload), `recipient` the
    device token, `sender` the token's platform (`ios` or `android`).
    """

    account_id: str
    send_id: str
    idempotency_key: str  # for providers that take an Idempotency-Key
    channel: Channel
    message_id: str
    content: bytes
    content_sha256: str
    recipient: str
    sender: str | None = None
    media_url: str | None = None  # sms: a picture sent as MMS (Twilio's MediaUrl)


class SendError(Exception):
    """The provider did not take the message. `reason` is recorded on the row."""

    retryable = False

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason if detail is None else f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class RetryableSendError(SendError):
    """Not taken this time (a 4xx SMTP reply, a throttle, a timeout before DATA, the relay
    unreachable): try again later, with the same bytes."""

    retryable = True

    def __init__(self, reason: str, detail: str | None = None, *, retry_after: float | None = None) -> None:
        super().__init__(reason, detail)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    """Refused for good (a 5xx SMTP reply to the message, a malformed request): the row ends
    `failed`."""


class RecipientRejected(PermanentSendError):
    """Refused for good because of the recipient itself: an SMTP 5xx to RCPT TO (a hard bounce,
    `Bounced Email` and a HARD_BOUNCE suppression), a push token the service no longer knows
    (UNREGISTERED, BadDeviceToken: the token is unregistered), a number that cannot receive SMS.
    `status` is the enhanced status code when the provider gave one (`5.1.1`)."""

    def __init__(self, reason: str, detail: str | None = None, *, status: str | None = None) -> None:
        super().__init__(reason, detail)
        self.status = status


class AmbiguousSendError(SendError):
    """The request went out and no answer came back (a read timeout, a connection reset
    mid-response): the provider may have taken the message. The row is settled `unknown`
    (delivery unknown), never sent again: SMS and push have no idempotency key to make a
    second attempt safe."""

    retryable = False
    ambiguous = True


class Provider(Protocol):
    name: str  # recorded with the outcome: "outbox", "smtp", "log", "twilio", "fcm", "apns"
    concurrency: int  # messages this provider takes in flight at once

    async def send(self, message: OutboundMessage) -> str:
        """Deliver the message; returns the provider's reference for it. Raises
        RetryableSendError or PermanentSendError (RecipientRejected) when it did not take it."""
        ...

    async def close(self) -> None:
        """Release connections; called once when the worker stops."""
        ...
