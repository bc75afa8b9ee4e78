"""Settling a batch of attempts: each row's outcome, and the event it makes, in one transaction.

Everything that happens to a person is an event, written with the state change it reports:

    email sent            → Received Email       (the relay took it; Tidings has no delivery receipts)
    email refused for the recipient (5xx to RCPT) → Bounced Email, hard, and the HARD_BOUNCE
                                                    suppression (tidings.delivery.bounces)
    email refused otherwise, for good             → Dropped Email
    sms sent              → Sent SMS
    sms refused for good  → Failed to Deliver SMS
    push sent             → Received Push
    push refused for good → Bounced Push (and a token the service no longer knows is unregistered)

A retryable refusal plans the row again (same bytes, later) and makes no event; a request
with no answer (`AmbiguousSendError`) leaves the row `unknown`, with no event, never resent. An outcome
from a worker that lost its lease is dropped (the row's new holder settles it). Each event's
`unique_id` is derived from the row, so settling the same row twice cannot record it twice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.delivery import bounces, push, repository, service, sms
from tidings.delivery.provider import RecipientRejected, SendError
from tidings.delivery.service import Claim, LeaseLost
from tidings.delivery.tables import Channel, SendStatus
from tidings.events.metrics import KLAVIYO, MetricKey
from tidings.events.store import NewEvent, write_events

log = structlog.get_logger("tidings.delivery")

SENT_METRIC = {Channel.EMAIL: "Received Email", Channel.SMS: "Sent SMS", Channel.PUSH: "Received Push"}
FAILED_METRIC = {
    Channel.EMAIL: "Dropped Email",
    Channel.SMS: "Failed to Deliver SMS",
    Channel.PUSH: "Bounced Push",
}


@dataclass(frozen=True)
class Attempt:
    """What the provider answered for one claim: its reference, or the error it raised."""

    claim: Claim
    provider_ref: str | None = None
    error: SendError | None = None


@dataclass
class Settled:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0  # no answer from the provider: delivery unknown, never resent
    lost: int = 0  # outcomes refused because the lease had passed to someone else


def settle(session: Session, attempts: list[Attempt], *, now: dt.datetime | None = None) -> Settled:
    now = now or utcnow()
    settled = Settled()
    events: dict[str, list[NewEvent]] = defaultdict(list)
    rejected: list[tuple[Attempt, RecipientRejected]] = []
    accepted = [(a.claim, a.provider_ref or "") for a in attempts if a.error is None]
    lost = {held.send_id for held in service.record_sent_many(session, accepted, now=now)}
    for held, _ref in accepted:
        if held.send_id in lost:
            settled.lost += 1
            log.warning("delivery.lease_lost", account=held.account_id, send=held.send_id)
            continue
        settled.sent += 1
        events[held.account_id].append(_event(held, SENT_METRIC[held.message.channel], "sent", now))
    for attempt in attempts:
        if attempt.error is None:
            continue
        held = attempt.claim
        channel = held.message.channel
        try:
            if getattr(attempt.error, "ambiguous", False):
                service.record_unknown(session, held, attempt.error, now=now)
                settled.unknown += 1
                continue
            status = service.record_failed(session, held, attempt.error, now=now)
        except LeaseLost:
            settled.lost += 1
            log.warning("delivery.lease_lost", account=held.account_id, send=held.send_id)
            continue
        if status is SendStatus.PLANNED:
            settled.retried += 1
            continue
        settled.failed += 1
        detail = {
            "Reason": attempt.error.reason,
            **({"Detail": attempt.error.detail} if attempt.error.detail else {}),
        }
        if isinstance(attempt.error, RecipientRejected):
            rejected.append((attempt, attempt.error))
            if channel is Channel.EMAIL:
                continue  # a hard bounce: its event comes with its suppression (bounces.py)
        events[held.account_id].append(_event(held, FAILED_METRIC[channel], "failed", now, detail))
    for account_id, written in events.items():
        write_events(session, account_id, written)
    for attempt, error in rejected:
        _recipient_rejected(session, attempt.claim, error)
    return settled


def _event(
    held: Claim, metric: str, kind: str, now: dt.datetime, extra: dict[str, Any] | None = None
) -> NewEvent:
    properties: dict[str, Any] = {
        **(held.context or {}),
        **(extra or {}),
        "$event_id": f"{held.send_id}:{kind}",
    }
    return NewEvent(
        profile_id=held.profile_id,
        metric=MetricKey(metric, KLAVIYO),
        time=now,
        properties=properties,
        unique_id=f"{held.send_id}:{kind}",
        source="internal",
    )


def _recipient_rejected(session: Session, held: Claim, error: RecipientRejected) -> None:
    """What a refusal of the recipient itself changes beyond the row (suppressions, tokens)."""
    channel = held.message.channel
    if channel is Channel.EMAIL:
        send = repository.get(session, held.account_id, held.send_id)
        if send is not None:
            bounces.record_rejection(session, send, status=error.status, detail=error.detail or error.reason)
    elif channel is Channel.PUSH:
        push.token_rejected(session, held.account_id, held.profile_id, held.message.recipient)
    elif sms.unsubscribes(error):  # Twilio 21610: the carrier says the number opted out
        sms.recipient_unsubscribed(session, held.account_id, held.profile_id)
    log.info(
        "delivery.recipient_rejected",
        account=held.account_id,
        send=held.send_id,
        channel=held.message.channel,
        reason=error.reason,
        status=error.status,
    )
