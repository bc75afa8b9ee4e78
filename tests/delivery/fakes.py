"""An in-memory provider and small factories for the ledger's tests."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from tidings.db.ids import ulid
from tidings.delivery import service
from tidings.delivery.provider import OutboundMessage, PermanentSendError, RetryableSendError
from tidings.delivery.tables import Channel, MessageSend

DOMAIN = "mail.example.test"


@dataclass
class FakeProvider:
    """Keeps every message it took. `fail_with` makes the next sends raise instead."""

    delivered: list[OutboundMessage] = field(default_factory=list)
    fail_with: list[RetryableSendError | PermanentSendError] = field(default_factory=list)
    _refs: itertools.count = field(default_factory=itertools.count)

    def send(self, message: OutboundMessage) -> str:
        if self.fail_with:
            raise self.fail_with.pop(0)
        self.delivered.append(message)
        return f"fake-{next(self._refs)}"

    def deliveries(self, send_id: str) -> list[OutboundMessage]:
        return [m for m in self.delivered if m.send_id == send_id]


@dataclass
class CountingRenderer:
    """Renders a new body every call (a re-render would show as different bytes)."""

    calls: list[str] = field(default_factory=list)
    skip: Callable[[MessageSend], service.Skip | None] | None = None

    def __call__(self, row: MessageSend) -> service.Rendered | service.Skip:
        if self.skip is not None and (skipped := self.skip(row)) is not None:
            return skipped
        self.calls.append(row.id)
        body = f"Message-ID: {row.message_id}\r\n\r\nrender {len(self.calls)} of {row.id}\r\n"
        return service.Rendered(body.encode(), recipient=f"{row.profile_id.lower()}@example.test")


def plan_send(
    session: Session,
    account_id: str,
    *,
    channel: Channel = Channel.EMAIL,
    source: service.Source | None = None,
    profile_id: str | None = None,
    **kwargs: object,
) -> service.Planned:
    return service.plan(
        session,
        account_id,
        source=source or service.ApiSource(ulid()),
        profile_id=profile_id or ulid(),
        channel=channel,
        domain=DOMAIN,
        **kwargs,  # type: ignore[arg-type]
    )
