"""The one answer to "may this profile receive this channel, marketing or transactional, now?".

Everything that sends (campaigns, flows, transactional messages) calls `may_receive` or
`may_receive_many`; `decide` is the pure rule, from Klaviyo's documented behaviour:

- email marketing: an email address, no global suppression, consent not UNSUBSCRIBED
  (NEVER_SUBSCRIBED is implicit consent and may receive), and no list suppression for the
  list being sent to;
- email transactional: an email address, and none of the suppressions that make mail
  undeliverable or unwanted (HARD_BOUNCE, INVALID_EMAIL, SPAM_COMPLAINT); an unsubscribe
  or a manual suppression does not stop transactional mail;
- SMS marketing and SMS transactional: a phone number and explicit consent SUBSCRIBED for
  that purpose (implied consent does not apply to SMS);
- push: an enabled token (AUTHORIZED or PROVISIONAL) and, for marketing, consent not
  UNSUBSCRIBED (a token registered with permission is the consent);
- WhatsApp: a phone number and consent SUBSCRIBED, not past `valid_until`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.consent.tables import EmailSuppression, ListSuppression, Subscription
from tidings.db.base import utcnow
from tidings.profiles.tables import Profile, PushToken


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PUSH = "mobile_push"
    WHATSAPP = "whatsapp"


class Purpose(StrEnum):
    MARKETING = "marketing"
    TRANSACTIONAL = "transactional"


class Consent(StrEnum):
    SUBSCRIBED = "SUBSCRIBED"
    UNSUBSCRIBED = "UNSUBSCRIBED"
    NEVER_SUBSCRIBED = "NEVER_SUBSCRIBED"


class SuppressionReason(StrEnum):
    HARD_BOUNCE = "HARD_BOUNCE"
    INVALID_EMAIL = "INVALID_EMAIL"
    SPAM_COMPLAINT = "SPAM_COMPLAINT"
    UNSUBSCRIBE = "UNSUBSCRIBE"
    USER_SUPPRESSED = "USER_SUPPRESSED"


# Suppressions that stop even transactional email.
UNDELIVERABLE = {
    SuppressionReason.HARD_BOUNCE,
    SuppressionReason.INVALID_EMAIL,
    SuppressionReason.SPAM_COMPLAINT,
}
ENABLED_PUSH = {"AUTHORIZED", "PROVISIONAL"}


@dataclass(frozen=True)
class ConsentRecord:
    consent: str
    valid_until: dt.datetime | None = None


@dataclass
class ConsentState:
    """What `decide` needs to know about one profile."""

    email: str | None = None
    phone_number: str | None = None
    consents: dict[tuple[str, str], ConsentRecord] = field(default_factory=dict)  # (channel, purpose)
    suppressions: set[str] = field(default_factory=set)
    list_suppressions: set[str] = field(default_factory=set)
    push_statuses: set[str] = field(default_factory=set)

    def consent(self, channel: Channel, purpose: Purpose) -> str:
        record = self.consents.get((channel.value, purpose.value))
        return record.consent if record else Consent.NEVER_SUBSCRIBED.value


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def _yes(reason: str) -> Decision:
    return Decision(True, reason)


def _no(reason: str) -> Decision:
    return Decision(False, reason)


def decide(
    state: ConsentState,
    channel: Channel,
    purpose: Purpose,
    *,
    list_id: str | None = None,
    at: dt.datetime | None = None,
) -> Decision:
    now = at or utcnow()
    consent = state.consent(channel, purpose)
    if channel is Channel.EMAIL:
        if not state.email:
            return _no("no email address")
        if purpose is Purpose.TRANSACTIONAL:
            blocking = sorted(state.suppressions & {r.value for r in UNDELIVERABLE})
            return _no(f"suppressed: {blocking[0]}") if blocking else _yes("transactional email")
        if state.suppressions:
            return _no(f"suppressed: {sorted(state.suppressions)[0]}")
        if consent == Consent.UNSUBSCRIBED:
            return _no("unsubscribed from email marketing")
        if list_id is not None and list_id in state.list_suppressions:
            return _no(f"suppressed for list {list_id}")
        return _yes("subscribed" if consent == Consent.SUBSCRIBED else "implicit consent (never subscribed)")
    if channel is Channel.SMS:
        if not state.phone_number:
            return _no("no phone number")
        if consent != Consent.SUBSCRIBED:
            return _no(f"SMS {purpose.value} needs consent SUBSCRIBED; it is {consent}")
        return _yes(f"subscribed to SMS {purpose.value}")
    if channel is Channel.PUSH:
        if not state.push_statuses & ENABLED_PUSH:
            return _no("no enabled push token")
        if purpose is Purpose.MARKETING and consent == Consent.UNSUBSCRIBED:
            return _no("unsubscribed from push marketing")
        return _yes("enabled push token")
    if not state.phone_number:
        return _no("no phone number")
    record = state.consents.get((channel.value, purpose.value))
    if record is None or record.consent != Consent.SUBSCRIBED:
        return _no(f"WhatsApp {purpose.value} needs consent SUBSCRIBED")
    if record.valid_until is not None and record.valid_until < now:
        return _no("WhatsApp consent has expired")
    return _yes(f"subscribed to WhatsApp {purpose.value}")


def load_states(session: Session, account_id: str, profile_ids: Iterable[str]) -> dict[str, ConsentState]:
    """The consent state of each existing profile (four set-based queries)."""
    ids = sorted(set(profile_ids))
    if not ids:
        return {}
    states: dict[str, ConsentState] = {}
    for pid, email, phone in session.execute(
        select(Profile.id, Profile.email, Profile.phone_number).where(
            Profile.account_id == account_id, Profile.id.in_(ids)
        )
    ):
        states[pid] = ConsentState(email=email, phone_number=phone)
    for pid, channel, purpose, consent, valid_until in session.execute(
        select(
            Subscription.profile_id,
            Subscription.channel,
            Subscription.purpose,
            Subscription.consent,
            Subscription.valid_until,
        ).where(Subscription.account_id == account_id, Subscription.profile_id.in_(ids))
    ):
        if pid in states:
            states[pid].consents[(channel, purpose)] = ConsentRecord(consent, valid_until)
    for pid, reason in session.execute(
        select(EmailSuppression.profile_id, EmailSuppression.reason).where(
            EmailSuppression.account_id == account_id, EmailSuppression.profile_id.in_(ids)
        )
    ):
        if pid in states:
            states[pid].suppressions.add(reason)
    for pid, list_id in session.execute(
        select(ListSuppression.profile_id, ListSuppression.list_id).where(
            ListSuppression.account_id == account_id, ListSuppression.profile_id.in_(ids)
        )
    ):
        if pid in states:
            states[pid].list_suppressions.add(list_id)
    for pid, status in session.execute(
        select(PushToken.profile_id, PushToken.enablement_status).where(
            PushToken.account_id == account_id, PushToken.profile_id.in_(ids)
        )
    ):
        if pid in states:
            states[pid].push_statuses.add(status)
    return states


def may_receive_many(
    session: Session,
    account_id: str,
    profile_ids: Iterable[str],
    channel: Channel,
    purpose: Purpose,
    *,
    list_id: str | None = None,
    at: dt.datetime | None = None,
) -> dict[str, Decision]:
    """A decision per profile id (an unknown or deleted profile may receive nothing)."""
    ids = list(profile_ids)
    states = load_states(session, account_id, ids)
    return {
        pid: decide(states[pid], channel, purpose, list_id=list_id, at=at)
        if pid in states
        else _no("no such profile")
        for pid in ids
    }


def may_receive(
    session: Session,
    account_id: str,
    profile_id: str,
    channel: Channel,
    purpose: Purpose,
    *,
    list_id: str | None = None,
    at: dt.datetime | None = None,
) -> Decision:
    return may_receive_many(session, account_id, [profile_id], channel, purpose, list_id=list_id, at=at)[
        profile_id
    ]
