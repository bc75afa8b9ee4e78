"""What the recipient pages do: unsubscribe, manage preferences, the web view, double opt-in.

Each page is reached through a signed link (tidings/templates/links.py) whose claims name the
account, the profile and, for messages, the ledger row (`message_sends.id`); a token never
reaches another account's rows, since every lookup is by the claimed account. The routes
(`pages.py`) own the unit of work; these functions flush at most.

Decisions (docs/COMPATIBILITY.md, "Recipient pages"):
- Unsubscribing is global for email marketing: Klaviyo's default, and Tidings has no account
  setting for list-scoped unsubscribes yet. The consent method is `PREFERENCE_PAGE` (the hosted
  pages' method in Klaviyo's consent records), its detail says which way: `unsubscribe_page`
  (the page's button), `one_click` (RFC 8058) or `manage_preferences`.
- The preference page lists the lists the profile is on or was once on (so a list left by
  mistake can be joined again); Tidings has no "show on the preference page" flag on lists.
  Email marketing can be turned on and off; SMS marketing only off (SMS consent needs its own
  disclosure, which an email link cannot give).
"""

from __future__ import annotations

import email
import email.policy
import html
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.accounts.repository import get_account
from tidings.consent import service as consent
from tidings.consent.policy import Channel, Consent, ConsentState, Purpose, SuppressionReason, load_states
from tidings.delivery import service as ledger
from tidings.delivery.tables import Channel as SendChannel
from tidings.delivery.tables import MessageSend
from tidings.events.store import record_event
from tidings.lists import service as lists
from tidings.lists.tables import List, ListFirstJoin, ListMember
from tidings.profiles.tables import Profile, ProfileMerge
from tidings.templates.links import LinkClaims

METHOD = "PREFERENCE_PAGE"
UNSUBSCRIBE_PAGE = "unsubscribe_page"
ONE_CLICK = "one_click"
MANAGE_PREFERENCES = "manage_preferences"
PREFERENCES_METRIC = "Updated Email Preferences"
MAX_MERGE_HOPS = 16
UNDELIVERABLE = {SuppressionReason.HARD_BOUNCE.value, SuppressionReason.INVALID_EMAIL.value}
# An <img> whose source is the open pixel (/t/o/...): the web view must not count as an open.
_PIXEL = re.compile(r"<img\b[^>]*?/t/o/[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class Person:
    account_id: str
    account_name: str
    profile_id: str
    email: str | None
    phone_number: str | None


def person(session: Session, claims: LinkClaims) -> Person | None:
    """The profile a link is for, in the link's account: the profile it names or, when that one
    was merged into another since the message went out, the one it lives on in (an unsubscribe
    link must keep working). None when it no longer exists (deleted)."""
    if not claims.profile_id:
        return None
    profile = _current_profile(session, claims.account_id, claims.profile_id)
    if profile is None:
        return None
    account = get_account(session, claims.account_id)
    return Person(
        claims.account_id,
        account.name if account else "",
        profile.id,
        profile.email,
        profile.phone_number,
    )


def _current_profile(session: Session, account_id: str, profile_id: str) -> Profile | None:
    for _ in range(MAX_MERGE_HOPS):
        profile = session.get(Profile, (account_id, profile_id))
        if profile is not None:
            return profile
        merged_into = session.execute(
            select(ProfileMerge.destination_profile_id)
            .where(
                ProfileMerge.account_id == account_id,
                ProfileMerge.source_profile_id == profile_id,
                ProfileMerge.status == "merged",
            )
            .order_by(ProfileMerge.created.desc())
            .limit(1)
        ).scalar()
        if merged_into is None:
            return None
        profile_id = merged_into
    return None


def _send(session: Session, claims: LinkClaims, who: Person | None = None) -> MessageSend | None:
    """The ledger row a link names, if it is the claimed profile's (or, after a merge, the
    profile's it was merged into: merges move ledger rows)."""
    if not claims.message_id or not claims.profile_id:
        return None
    row = ledger.get(session, claims.account_id, claims.message_id)
    if row is None or row.profile_id not in {claims.profile_id, who.profile_id if who else None}:
        return None
    return row


def _attribution(row: MessageSend | None) -> dict[str, Any]:
    """What the message's events carry ($message, $flow or Campaign Name, ...)."""
    return dict(row.context or {}) if row is not None else {}


def _state(session: Session, who: Person) -> ConsentState:
    return load_states(session, who.account_id, [who.profile_id])[who.profile_id]


# ------------------------------------------------------------------------------ unsubscribe


def is_unsubscribed(session: Session, who: Person) -> bool:
    state = _state(session, who)
    return state.consent(Channel.EMAIL, Purpose.MARKETING) == Consent.UNSUBSCRIBED.value


def unsubscribe(session: Session, claims: LinkClaims, *, one_click: bool) -> Person | None:
    """Unsubscribe the link's profile from email marketing (idempotent: once unsubscribed, a
    second press changes nothing and records nothing). None when the link names no profile."""
    who = person(session, claims)
    if who is None:
        return None
    if is_unsubscribed(session, who):
        return who
    consent.unsubscribe(
        session,
        who.account_id,
        who.profile_id,
        Channel.EMAIL,
        Purpose.MARKETING,
        method=consent.Method(METHOD, ONE_CLICK if one_click else UNSUBSCRIBE_PAGE),
        attribution=_attribution(_send(session, claims, who)),
    )
    return who


# ------------------------------------------------------------------------------ preferences


@dataclass(frozen=True)
class ListChoice:
    id: str
    name: str
    member: bool


@dataclass
class Preferences:
    person: Person
    email_marketing: bool  # receives marketing email now (subscribed, or never asked and not suppressed)
    email_blocked: str | None  # why marketing email cannot be turned on here
    sms_marketing: bool
    lists: list[ListChoice] = field(default_factory=list)


def _lists(session: Session, who: Person) -> list[ListChoice]:
    members = set(
        session.execute(
            select(ListMember.list_id).where(
                ListMember.account_id == who.account_id, ListMember.profile_id == who.profile_id
            )
        ).scalars()
    )
    joined = select(ListFirstJoin.list_id).where(
        ListFirstJoin.account_id == who.account_id, ListFirstJoin.profile_id == who.profile_id
    )
    rows = session.execute(
        select(List.id, List.name)
        .where(List.account_id == who.account_id, List.id.in_(joined) | List.id.in_(members))
        .order_by(List.name, List.id)
    ).all()
    return [ListChoice(list_id, name, list_id in members) for list_id, name in rows]


def _preferences(session: Session, who: Person) -> Preferences:
    state = _state(session, who)
    blocked = None
    if not who.email:
        blocked = "There is no email address on file."
    elif state.suppressions & UNDELIVERABLE:
        blocked = "Email to this address cannot be delivered (it bounced or is not valid)."
    email_consent = state.consent(Channel.EMAIL, Purpose.MARKETING)
    receives = blocked is None and email_consent != Consent.UNSUBSCRIBED.value and not state.suppressions
    sms = state.consent(Channel.SMS, Purpose.MARKETING) == Consent.SUBSCRIBED.value
    return Preferences(who, receives, blocked, bool(who.phone_number) and sms, _lists(session, who))


def preferences(session: Session, claims: LinkClaims) -> Preferences | None:
    who = person(session, claims)
    return None if who is None else _preferences(session, who)


def update_preferences(
    session: Session,
    claims: LinkClaims,
    *,
    email_marketing: bool,
    sms_marketing: bool,
    list_ids: set[str],
) -> tuple[Preferences, bool] | None:
    """Apply the submitted form: only what differs from the current state changes. Records
    `Updated Email Preferences` when anything changed. Returns the new state and whether it
    changed; None when the link names no profile."""
    who = person(session, claims)
    if who is None:
        return None
    now = _preferences(session, who)
    attribution = _attribution(_send(session, claims, who))
    method = consent.Method(METHOD, MANAGE_PREFERENCES)
    changes: dict[str, Any] = {}
    if now.email_blocked is None and email_marketing != now.email_marketing:
        if email_marketing:
            consent.subscribe(session, who.account_id, who.profile_id, Channel.EMAIL, method=method)
        else:
            consent.unsubscribe(
                session, who.account_id, who.profile_id, Channel.EMAIL, method=method, attribution=attribution
            )
        changes["email_marketing"] = (
            Consent.SUBSCRIBED.value if email_marketing else Consent.UNSUBSCRIBED.value
        )
    if now.sms_marketing and not sms_marketing:
        consent.unsubscribe(
            session, who.account_id, who.profile_id, Channel.SMS, method=method, attribution=attribution
        )
        changes["sms_marketing"] = Consent.UNSUBSCRIBED.value
    added = [item for item in now.lists if not item.member and item.id in list_ids]
    removed = [item for item in now.lists if item.member and item.id not in list_ids]
    for item in added:
        lists.add_profiles(session, who.account_id, item.id, [who.profile_id])
    for item in removed:
        lists.remove_profiles(session, who.account_id, item.id, [who.profile_id])
    if added:
        changes["lists_added"] = [item.id for item in added]
    if removed:
        changes["lists_removed"] = [item.id for item in removed]
    if changes:
        record_event(
            session,
            who.account_id,
            profile_id=who.profile_id,
            metric_name=PREFERENCES_METRIC,
            properties={**attribution, **changes, "method": METHOD},
        )
    return _preferences(session, who), bool(changes)


# ------------------------------------------------------------------------------ web view


def web_view(session: Session, claims: LinkClaims) -> str | None:
    """The HTML part of the email as it was sent, without the open pixel; None when the row is
    not the link's, is not an email, or its content is gone (never rendered, or erased)."""
    who = person(session, claims)
    row = _send(session, claims, who) if who is not None else None
    if row is None or row.channel != SendChannel.EMAIL.value or not row.content:
        return None
    message = email.message_from_bytes(row.content, policy=email.policy.default)
    part = message.get_body(preferencelist=("html", "plain"))
    if part is None:
        return None
    content = part.get_content()
    if part.get_content_subtype() != "html":
        return f'<!doctype html><meta charset="utf-8"><pre>{html.escape(content)}</pre>'
    return _PIXEL.sub("", content)


# ------------------------------------------------------------------------------ double opt-in


@dataclass(frozen=True)
class Confirmation:
    person: Person
    list_name: str | None
    pending: bool  # waits for the press
    subscribed: bool  # email marketing consent is SUBSCRIBED


def _confirmation(session: Session, claims: LinkClaims, who: Person) -> Confirmation:
    name = None
    if claims.list_id:
        found = session.get(List, (who.account_id, claims.list_id))
        name = found.name if found is not None else None
    state = _state(session, who)
    return Confirmation(
        who,
        name,
        consent.awaiting_confirmation(session, who.account_id, who.profile_id),
        state.consent(Channel.EMAIL, Purpose.MARKETING) == Consent.SUBSCRIBED.value,
    )


def confirmation(session: Session, claims: LinkClaims) -> Confirmation | None:
    who = person(session, claims)
    return None if who is None else _confirmation(session, claims, who)


def confirm(session: Session, claims: LinkClaims) -> Confirmation | None:
    """The press on the confirmation page: the pending subscription takes effect and the profile
    joins the list (idempotent: a second press finds nothing pending)."""
    who = person(session, claims)
    if who is None:
        return None
    consent.confirm_double_optin(
        session, who.account_id, who.profile_id, Channel.EMAIL, list_id=claims.list_id
    )
    return _confirmation(session, claims, who)
