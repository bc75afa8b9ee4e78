"""Bounces and complaints: what they change, each in the transaction that records it.

- A hard bounce (a DSN's 5.x.x, a provider's permanent failure, or a 5xx to RCPT TO during the
  send: `record_rejection`) records `Bounced Email` with `Bounce Type` `hard` and the
  `HARD_BOUNCE` email suppression.
- A soft bounce records `Bounced Email` with `Bounce Type` `soft`. More than 7 consecutive soft
  bounces (Klaviyo's rule) suppress too: the profile's attempted email sends, newest first up to
  this one, are counted while they soft-bounced; a send that did not bounce ends the streak. The
  suppression reason is `HARD_BOUNCE`: Klaviyo's API names no other bounce reason, and its help
  treats "a hard bounce or 7 consecutive soft bounces" as the same suppression (it blocks even
  transactional mail).
- A complaint (an ARF `abuse` report, a provider's spam report) records `Marked Email as Spam`,
  the `SPAM_COMPLAINT` suppression, and unsubscribes the profile from email marketing (with its
  `Unsubscribed from Email Marketing` event, through consent).

Each is idempotent on the send: the same report again (or another copy of it) changes nothing;
a soft bounce after a hard one is ignored, a hard one after a soft one is recorded.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import structlog
from sqlalchemy.orm import Session

from tidings.consent import service as consent
from tidings.consent.policy import Channel as ConsentChannel
from tidings.consent.policy import Purpose, SuppressionReason
from tidings.db.base import utcnow
from tidings.delivery import repository
from tidings.delivery.dsn import BounceType
from tidings.delivery.tables import Channel, MessageSend
from tidings.events.store import record_event

BOUNCED_METRIC = "Bounced Email"
SPAM_METRIC = "Marked Email as Spam"
DROPPED_METRIC = "Dropped Email"
SOFT_BOUNCE_LIMIT = 7  # suppressed after more than this many consecutive soft bounces
COMPLAINT_METHOD = "SPAM_COMPLAINT"

log = structlog.get_logger("tidings.delivery.bounces")


def record_bounce(
    session: Session,
    send: MessageSend,
    bounce_type: BounceType,
    *,
    status: str | None = None,
    detail: str | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Record that `send` bounced; False when nothing changed (already recorded)."""
    if send.channel != Channel.EMAIL:
        return False
    if send.bounce_type == BounceType.HARD or send.bounce_type == bounce_type:
        return False
    now = now or utcnow()
    send.bounce_type = bounce_type.value
    send.bounced_at = now
    session.flush()
    # A hard bounce has the id the worker's own (a 5xx to RCPT TO, delivery/outcomes.py) gives it,
    # so the two paths record one event; a soft one before it has its own.
    event_id = f"{send.id}:bounced" if bounce_type is BounceType.HARD else f"{send.id}:bounced:soft"
    properties = {**_message_properties(send, event_id), "Bounce Type": bounce_type.value}
    record_event(
        session,
        send.account_id,
        profile_id=send.profile_id,
        metric_name=BOUNCED_METRIC,
        properties=properties,
        time=now,
        unique_id=event_id,
    )
    if bounce_type is BounceType.HARD or _soft_streak(session, send) > SOFT_BOUNCE_LIMIT:
        consent.suppress(session, send.account_id, send.profile_id, SuppressionReason.HARD_BOUNCE)
    log.info(
        "delivery.bounced",
        account=send.account_id,
        send=send.id,
        bounce_type=bounce_type.value,
        status=status,
        detail=(detail or "")[:200] or None,
    )
    return True


def record_rejection(session: Session, send: MessageSend, *, status: str | None, detail: str | None) -> bool:
    """The receiving server refused the recipient during the send (a 5xx to RCPT TO): a hard
    bounce, with the same effects as a hard DSN. The worker records the send's failure itself."""
    return record_bounce(session, send, BounceType.HARD, status=status, detail=detail)


def record_complaint(session: Session, send: MessageSend, *, now: dt.datetime | None = None) -> bool:
    """The recipient marked `send` as spam; False when it was already recorded."""
    if send.channel != Channel.EMAIL or send.complained_at is not None:
        return False
    now = now or utcnow()
    send.complained_at = now
    session.flush()
    record_event(
        session,
        send.account_id,
        profile_id=send.profile_id,
        metric_name=SPAM_METRIC,
        properties=_message_properties(send, f"{send.id}:spam"),
        time=now,
        unique_id=f"{send.id}:spam",
    )
    consent.suppress(session, send.account_id, send.profile_id, SuppressionReason.SPAM_COMPLAINT)
    consent.unsubscribe(
        session,
        send.account_id,
        send.profile_id,
        ConsentChannel.EMAIL,
        Purpose.MARKETING,
        method=consent.Method(COMPLAINT_METHOD),
    )
    log.info("delivery.complaint", account=send.account_id, send=send.id)
    return True


def record_dropped(session: Session, send: MessageSend, *, detail: str | None = None) -> bool:
    """The provider refused to send because of its own suppression list (SendGrid `dropped`):
    `Dropped Email`, which Klaviyo also treats as a bounce suppression."""
    if send.channel != Channel.EMAIL or send.bounce_type == BounceType.HARD:
        return False
    now = utcnow()
    send.bounce_type = BounceType.HARD.value
    send.bounced_at = now
    session.flush()
    record_event(
        session,
        send.account_id,
        profile_id=send.profile_id,
        metric_name=DROPPED_METRIC,
        properties=_message_properties(send, f"{send.id}:dropped"),
        time=now,
        unique_id=f"{send.id}:dropped",
    )
    consent.suppress(session, send.account_id, send.profile_id, SuppressionReason.HARD_BOUNCE)
    log.info("delivery.dropped", account=send.account_id, send=send.id, detail=(detail or "")[:200] or None)
    return True


def _soft_streak(session: Session, send: MessageSend) -> int:
    streak = 0
    for bounce_type in repository.latest_email_bounces(session, send, SOFT_BOUNCE_LIMIT + 1):
        if bounce_type != BounceType.SOFT:
            break
        streak += 1
    return streak


def _message_properties(send: MessageSend, event_id: str) -> dict[str, Any]:
    """The message's properties as its other events carry them ($message, Campaign Name or
    $flow, Subject, Email Domain ...), with this event's own $event_id (its unique id: one
    event per send and kind, however often the report comes)."""
    properties: dict[str, Any] = dict(send.context or {})
    if "Email Domain" not in properties and send.recipient and "@" in send.recipient:
        properties["Email Domain"] = send.recipient.rpartition("@")[2].lower()
    properties["$event_id"] = event_id
    return properties
