"""What a delivery provider (SMTP relay, SMS gateway, push service) implements.

Later steps add the real providers; the tests use an in-memory fake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tidings.delivery.tables import Channel


@dataclass(frozen=True)
class OutboundMessage:
    """One attempt of one ledger row: always the bytes stored when the row first went to
    `sending`, so a retry or a resend is byte-identical (same Message-ID, same hash)."""

    account_id: str
    send_id: str
    idempotency_key: str  # for providers that take an Idempotency-Key
    channel: Channel
    message_id: str
    content: bytes
    content_sha256: str


class SendError(Exception):
    """The provider did not take the message. `reason` is recorded on the row."""

    retryable = False

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason if detail is None else f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class RetryableSendError(SendError):
    """Not taken this time (a 4xx SMTP reply, a throttle, a timeout before DATA): try again later."""

    retryable = True

    def __init__(self, reason: str, detail: str | None = None, *, retry_after: float | None = None) -> None:
        super().__init__(reason, detail)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    """Refused for good (a 5xx SMTP reply, an invalid number): the row ends `failed`."""


class Provider(Protocol):
    def send(self, message: OutboundMessage) -> str:
        """Deliver the message; returns the provider's reference for it. Raises
        RetryableSendError or PermanentSendError when it did not take it."""
        ...
