"""Consent and suppression changes, each recorded as the Klaviyo metric event it corresponds to.

The endpoints (bulk subscribe/unsubscribe/suppress/unsuppress, /client/subscriptions),
imports and the unsubscribe page call these; they never write the consent tables directly.

- `subscribe`: consent SUBSCRIBED for the channel and purpose, with its timestamp (clamped to
  1990-01-01 at the earliest), method and details. For email marketing it lifts the
  suppressions a subscription overrides (UNSUBSCRIBE, SPAM_COMPLAINT, USER_SUPPRESSED; never
  HARD_BOUNCE or INVALID_EMAIL) and the list suppression of the list subscribed through.
  With `double_optin_pending`, consent does not change: the request is remembered until
  `confirm_double_optin`, and `hooks.DOUBLE_OPTIN_REQUESTED` is told (delivery sends the
  confirmation email); a profile already subscribed has nothing to confirm and is left as it is.
- `confirm_double_optin`: the pending subscription takes effect and the profile joins the list
  it subscribed through (Klaviyo adds a double opt-in subscriber to the list on confirmation).
- `unsubscribe`: consent UNSUBSCRIBED; for email marketing also the UNSUBSCRIBE suppression
  (the API's enum implies it, and it keeps a later import from silently re-subscribing).
  With `list_id`, only that list is suppressed (the caller decides, from membership, whether
  a list-scoped unsubscribe applies; Klaviyo unsubscribes globally from lists the profile is
  not on).
- `suppress` / `unsuppress`: the USER_SUPPRESSED email suppression; unsuppress lifts only it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tidings.consent import hooks as consent_hooks
from tidings.consent.gateways import lists
from tidings.consent.policy import Channel, Consent, Purpose, SuppressionReason
from tidings.consent.tables import EmailSuppression, ListSuppression, Subscription
from tidings.db.base import utcnow
from tidings.events.store import record_event
from tidings.profiles import hooks

EARLIEST = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
LIFTED_BY_SUBSCRIBE = {
    SuppressionReason.UNSUBSCRIBE.value,
    SuppressionReason.SPAM_COMPLAINT.value,
    SuppressionReason.USER_SUPPRESSED.value,
}
_CHANNEL_NAMES = {
    Channel.EMAIL: "Email",
    Channel.SMS: "SMS",
    Channel.PUSH: "Push",
    Channel.WHATSAPP: "WhatsApp",
}


def metric_name(subscribed: bool, channel: Channel, purpose: Purpose) -> str:
    """Klaviyo's metric for a consent change: "Subscribed to Email Marketing", ..."""
    verb = "Subscribed to" if subscribed else "Unsubscribed from"
    what = "Marketing" if purpose is Purpose.MARKETING else "Transactional Messages"
    return f"{verb} {_CHANNEL_NAMES[channel]} {what}"


SUPPRESSED_METRIC = "Manually Suppressed from Email Marketing"
UNSUPPRESSED_METRIC = "Manually Unsuppressed from Email Marketing"
LIST_UNSUBSCRIBED_METRIC = "Unsubscribed from List"


@dataclass
class Method:
    method: str = "API"
    method_detail: str | None = None
    custom_method_detail: str | None = None


def _row(
    session: Session, account_id: str, profile_id: str, channel: Channel, purpose: Purpose
) -> Subscription:
    row = session.get(Subscription, (account_id, profile_id, channel.value, purpose.value))
    if row is None:
        row = Subscription(
            account_id=account_id,
            profile_id=profile_id,
            channel=channel.value,
            purpose=purpose.value,
            consent=Consent.NEVER_SUBSCRIBED.value,
            pending_double_optin=False,
            last_updated=utcnow(),
        )
        session.add(row)
    return row


def _properties(channel: Channel, purpose: Purpose, method: Method, **extra: Any) -> dict[str, Any]:
    props: dict[str, Any] = {"channel": channel.value, "purpose": purpose.value, "method": method.method}
    if method.method_detail:
        props["method_detail"] = method.method_detail
    if method.custom_method_detail:
        props["custom_method_detail"] = method.custom_method_detail
    props.update({k: v for k, v in extra.items() if v is not None})
    return props


def subscribe(
    session: Session,
    account_id: str,
    profile_id: str,
    channel: Channel,
    purpose: Purpose = Purpose.MARKETING,
    *,
    method: Method | None = None,
    consented_at: dt.datetime | None = None,
    list_id: str | None = None,
    double_optin_pending: bool = False,
) -> str | None:
    """Subscribe (or, with double_optin_pending, ask for confirmation). Returns the event id."""
    method = method or Method()
    now = utcnow()
    row = _row(session, account_id, profile_id, channel, purpose)
    if double_optin_pending and row.consent == Consent.SUBSCRIBED.value:
        return None  # already subscribed: nothing to confirm
    row.method, row.method_detail = method.method, method.method_detail
    row.custom_method_detail = method.custom_method_detail
    hooks.notify(session, account_id, [profile_id], "consent")
    if double_optin_pending:
        row.pending_double_optin = True
        row.last_updated = now
        session.flush()
        consent_hooks.notify(session, account_id, profile_id, list_id)
        return None
    row.consent = Consent.SUBSCRIBED.value
    row.consent_timestamp = max(consented_at or now, EARLIEST)
    row.last_updated = now
    row.pending_double_optin = False
    if channel is Channel.EMAIL and purpose is Purpose.MARKETING:
        row.double_optin = bool(row.double_optin)
        _lift(session, account_id, profile_id, LIFTED_BY_SUBSCRIBE, list_id)
    session.flush()
    return record_event(
        session,
        account_id,
        profile_id=profile_id,
        metric_name=metric_name(True, channel, purpose),
        properties=_properties(channel, purpose, method, list_id=list_id),
        time=now,
    )


def confirm_double_optin(
    session: Session,
    account_id: str,
    profile_id: str,
    channel: Channel = Channel.EMAIL,
    list_id: str | None = None,
) -> str | None:
    """The profile confirmed: the pending subscription takes effect, marked double_optin, and the
    profile joins the list (if it still exists). None when nothing was pending."""
    row = session.get(Subscription, (account_id, profile_id, channel.value, Purpose.MARKETING.value))
    if row is None or not row.pending_double_optin:
        return None
    method = Method(row.method or "API", row.method_detail, row.custom_method_detail)
    event = subscribe(session, account_id, profile_id, channel, method=method, list_id=list_id)
    row.double_optin = True
    session.flush()
    if list_id is not None and lists().opt_in_process(session, account_id, list_id) is not None:
        lists().add_members(session, account_id, list_id, [profile_id], historical=False)
    return event


def awaiting_confirmation(
    session: Session, account_id: str, profile_id: str, channel: Channel = Channel.EMAIL
) -> bool:
    """Whether a double opt-in subscription of the profile waits for its confirmation."""
    row = session.get(Subscription, (account_id, profile_id, channel.value, Purpose.MARKETING.value))
    return bool(row is not None and row.pending_double_optin)


def unsubscribe(
    session: Session,
    account_id: str,
    profile_id: str,
    channel: Channel,
    purpose: Purpose = Purpose.MARKETING,
    *,
    method: Method | None = None,
    list_id: str | None = None,
    attribution: dict[str, Any] | None = None,
) -> str | None:
    """Unsubscribe globally, or (email marketing with list_id) from that list only.
    `attribution`: more properties of the event (the message unsubscribed from: `$message`, ...)."""
    extra = dict(attribution or {})
    method = method or Method()
    now = utcnow()
    hooks.notify(session, account_id, [profile_id], "consent")
    if list_id is not None and channel is Channel.EMAIL:
        existing = session.get(ListSuppression, (account_id, profile_id, list_id))
        if existing is None:
            session.add(
                ListSuppression(
                    account_id=account_id,
                    profile_id=profile_id,
                    list_id=list_id,
                    reason=SuppressionReason.UNSUBSCRIBE.value,
                    timestamp=now,
                )
            )
        session.flush()
        return record_event(
            session,
            account_id,
            profile_id=profile_id,
            metric_name=LIST_UNSUBSCRIBED_METRIC,
            properties={**extra, **_properties(channel, purpose, method, list_id=list_id)},
            time=now,
        )
    row = _row(session, account_id, profile_id, channel, purpose)
    row.consent = Consent.UNSUBSCRIBED.value
    row.consent_timestamp = now
    row.last_updated = now
    row.pending_double_optin = False
    row.method, row.method_detail = method.method, method.method_detail
    row.custom_method_detail = method.custom_method_detail
    if channel is Channel.EMAIL and purpose is Purpose.MARKETING:
        _add_suppression(session, account_id, profile_id, SuppressionReason.UNSUBSCRIBE, now)
    session.flush()
    return record_event(
        session,
        account_id,
        profile_id=profile_id,
        metric_name=metric_name(False, channel, purpose),
        properties={**extra, **_properties(channel, purpose, method)},
        time=now,
    )


def suppress(
    session: Session,
    account_id: str,
    profile_id: str,
    reason: SuppressionReason = SuppressionReason.USER_SUPPRESSED,
) -> str | None:
    """Add a global email suppression (consent is unchanged). None when it was already there."""
    now = utcnow()
    if not _add_suppression(session, account_id, profile_id, reason, now):
        return None
    session.flush()
    hooks.notify(session, account_id, [profile_id], "consent")
    if reason is not SuppressionReason.USER_SUPPRESSED:
        return None  # bounces and complaints are recorded by the delivery events that caused them
    return record_event(
        session,
        account_id,
        profile_id=profile_id,
        metric_name=SUPPRESSED_METRIC,
        properties={"reason": reason.value},
        time=now,
    )


def unsuppress(session: Session, account_id: str, profile_id: str) -> str | None:
    """Lift USER_SUPPRESSED only (bounces, invalid emails and unsubscribes stay)."""
    lifted = _lift(session, account_id, profile_id, {SuppressionReason.USER_SUPPRESSED.value}, None)
    if not lifted:
        return None
    hooks.notify(session, account_id, [profile_id], "consent")
    return record_event(
        session,
        account_id,
        profile_id=profile_id,
        metric_name=UNSUPPRESSED_METRIC,
        properties={"reason": SuppressionReason.USER_SUPPRESSED.value},
    )


def _add_suppression(
    session: Session, account_id: str, profile_id: str, reason: SuppressionReason, now: dt.datetime
) -> bool:
    if session.get(EmailSuppression, (account_id, profile_id, reason.value)) is not None:
        return False
    session.add(
        EmailSuppression(account_id=account_id, profile_id=profile_id, reason=reason.value, timestamp=now)
    )
    return True


def _lift(session: Session, account_id: str, profile_id: str, reasons: set[str], list_id: str | None) -> int:
    found = list(
        session.execute(
            select(EmailSuppression.reason).where(
                EmailSuppression.account_id == account_id,
                EmailSuppression.profile_id == profile_id,
                EmailSuppression.reason.in_(reasons),
            )
        ).scalars()
    )
    if found:
        session.execute(
            delete(EmailSuppression).where(
                EmailSuppression.account_id == account_id,
                EmailSuppression.profile_id == profile_id,
                EmailSuppression.reason.in_(found),
            )
        )
    if list_id is not None:
        session.execute(
            delete(ListSuppression).where(
                ListSuppression.account_id == account_id,
                ListSuppression.profile_id == profile_id,
                ListSuppression.list_id == list_id,
            )
        )
    return len(found)
