"""SMS beyond the send: what Twilio tells us afterwards, and what recipients text back.

- `twilio_signature` / `signature_valid`: `X-Twilio-Signature`, base64(HMAC-SHA1(auth token,
  the URL Twilio called + every POST parameter as name and value, sorted by name)).
- `recipient_unsubscribed`: the recipient texted STOP to our sender at the carrier (Twilio
  refuses the send with 21610, or reports it in a status callback): SMS marketing consent
  becomes UNSUBSCRIBED (method `TEXT`, detail `CARRIER`). The worker calls it when
  `TwilioProvider` raises `RecipientRejected` with status `21610` (`unsubscribes(error)`).
- `status_callback`: `delivered` → `Received SMS`, `undelivered`/`failed` → `Failed to Deliver
  SMS` (with Twilio's `Error Code`), for the profile of the ledger row whose `provider_ref` is
  the callback's `MessageSid`, in that row's account only, with the row's event context.
  `Sent SMS` is the worker's, when Twilio took the message; the other statuses change nothing.
  Twilio retries callbacks: each (message, status) is recorded once. A callback that comes
  before the worker recorded the SID finds the send still `sending` to the callback's `To`.
- `inbound`: a text from a recipient. One Twilio configuration serves the whole installation,
  so the account is the one that last sent an SMS to the number (the conversation being
  answered), else `TIDINGS_SMS_INBOUND_ACCOUNT`; the profile is the account's profile with
  that phone number, else the last send's profile. STOP, UNSUBSCRIBE, END, QUIT, STOPALL,
  REVOKE, OPTOUT, CANCEL unsubscribe from SMS marketing; START, YES, UNSTOP subscribe again a
  profile that had unsubscribed (a profile that never subscribed is not subscribed by a
  carrier keyword: consent is collected with its disclosure); HELP and INFO are answered with
  `TIDINGS_SMS_HELP_TEXT`; anything else is a `Replied to SMS` event. With Twilio's Advanced
  Opt-Out, a custom keyword counts as the class Twilio gives it (`OptOutType`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from tidings.accounts.tables import Account
from tidings.consent import service as consent
from tidings.consent.policy import Channel as ConsentChannel
from tidings.consent.policy import Consent, Purpose
from tidings.consent.tables import Subscription
from tidings.delivery.provider import SendError
from tidings.delivery.tables import Channel, MessageSend, SendStatus
from tidings.events.store import record_event
from tidings.profiles.identifiers import IdentifierError, normalize_phone
from tidings.profiles.tables import Profile

OPT_OUT = frozenset({"STOP", "UNSUBSCRIBE", "END", "QUIT", "STOPALL", "REVOKE", "OPTOUT", "CANCEL"})
OPT_IN = frozenset({"START", "YES", "UNSTOP"})
HELP = frozenset({"HELP", "INFO"})
UNSUBSCRIBED_RECIPIENT = "21610"  # Twilio: the recipient texted STOP to this sender

RECEIVED_SMS = "Received SMS"
FAILED_SMS = "Failed to Deliver SMS"
REPLIED_SMS = "Replied to SMS"
DELIVERED = "delivered"
FAILED_STATUSES = frozenset({"undelivered", "failed"})
_SMS: ColumnElement[str] = literal_column(f"'{Channel.SMS.value}'")  # a literal, so the partial indexes apply


# ------------------------------------------------------------------ the request signature


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """What Twilio puts in `X-Twilio-Signature` for a POST of `params` to `url`."""
    pairs = sorted(params)  # by name, then (a repeated name) by value
    signed = url + "".join(name + value for name, value in pairs)
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_valid(
    auth_token: str | None, url: str, params: Iterable[tuple[str, str]], signature: str | None
) -> bool:
    """Whether the request is Twilio's; False without a signature or without an auth token."""
    if not auth_token or not signature:
        return False
    expected = twilio_signature(auth_token, url, params)
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


# ------------------------------------------------------------------ effects


def recipient_unsubscribed(session: Session, account_id: str, profile_id: str) -> str | None:
    """The carrier says the recipient opted out (Twilio 21610): SMS marketing consent becomes
    UNSUBSCRIBED. Returns the `Unsubscribed from SMS Marketing` event id, or None when the
    profile was already unsubscribed."""
    if _sms_consent(session, account_id, profile_id) == Consent.UNSUBSCRIBED:
        return None
    return consent.unsubscribe(
        session,
        account_id,
        profile_id,
        ConsentChannel.SMS,
        Purpose.MARKETING,
        method=consent.Method("TEXT", "CARRIER"),
    )


def unsubscribes(error: SendError) -> bool:
    """Whether a provider's refusal means the recipient opted out (call recipient_unsubscribed)."""
    return getattr(error, "status", None) == UNSUBSCRIBED_RECIPIENT


def _sms_consent(session: Session, account_id: str, profile_id: str) -> str:
    key = (account_id, profile_id, ConsentChannel.SMS.value, Purpose.MARKETING.value)
    row = session.get(Subscription, key)
    return row.consent if row is not None else Consent.NEVER_SUBSCRIBED.value


# ------------------------------------------------------------------ status callbacks


def status_callback(session: Session, form: Mapping[str, str]) -> str | None:
    """Record what a Twilio status callback reports. Returns the event id, if one was written."""
    sid, status = form.get("MessageSid") or form.get("SmsSid"), (form.get("MessageStatus") or "").lower()
    if not sid or (status != DELIVERED and status not in FAILED_STATUSES):
        return None
    row = session.execute(
        select(MessageSend).where(MessageSend.provider_ref == sid, MessageSend.channel == _SMS).limit(1)
    ).scalar_one_or_none()
    if row is None:
        row = _in_flight(session, form.get("To") or "")
    if row is None:
        return None
    properties = _message_properties(row)
    if status == DELIVERED:
        metric = RECEIVED_SMS
    else:
        metric = FAILED_SMS
        code = form.get("ErrorCode")
        if code:
            properties["Error Code"] = code
        if code == UNSUBSCRIBED_RECIPIENT:
            recipient_unsubscribed(session, row.account_id, row.profile_id)
    return record_event(
        session,
        row.account_id,
        profile_id=row.profile_id,
        metric_name=metric,
        properties=properties,
        unique_id=f"{sid}:{status}",
    )


def _in_flight(session: Session, to: str) -> MessageSend | None:
    """A callback can outrun the worker recording Twilio's answer: the send still `sending`
    to that number (the latest, should there be two) is the one Twilio reports on."""
    number = _phone(to)
    if number is None:
        return None
    return session.execute(
        select(MessageSend)
        .where(
            MessageSend.channel == _SMS,
            MessageSend.recipient == number,
            MessageSend.status == SendStatus.SENDING,
        )
        .order_by(MessageSend.created.desc(), MessageSend.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _message_properties(row: MessageSend) -> dict[str, Any]:
    """Klaviyo's message properties ($message, Campaign Name or $flow, ...) as rendered."""
    properties = dict(row.context or {})
    if row.recipient:
        properties.setdefault("To Number", row.recipient)
    return properties


# ------------------------------------------------------------------ inbound messages


@dataclass(frozen=True)
class Inbound:
    """What an inbound text did: its `kind` (`opt_out`, `opt_in`, `help`, `reply`, `unknown`
    when no account knows the number), and the text to answer with, if any."""

    kind: str
    account_id: str | None = None
    profile_id: str | None = None
    answer: str | None = None
    event_id: str | None = None


def inbound(
    session: Session,
    form: Mapping[str, str],
    *,
    help_text: str,
    fallback_account: str | None = None,
) -> Inbound:
    """Apply a text a recipient sent (Twilio's inbound webhook form: From, To, Body, ...)."""
    sender = _phone(form.get("From") or "")
    body = form.get("Body") or ""
    typed = body.strip().upper()
    # Twilio's Advanced Opt-Out names the class of a custom keyword (ARRET → STOP) in OptOutType.
    keyword = {"STOP": "STOP", "START": "START", "HELP": "HELP"}.get(form.get("OptOutType") or "", typed)
    found = _conversation(session, sender, fallback_account) if sender else None
    if found is None:
        # HELP is always answered (carriers require it), even without an account to name.
        answer = help_text.replace("{organization}: ", "").replace("{organization}", "")
        return Inbound("unknown", answer=answer if keyword in HELP else None)
    account_id, profile_id, last = found
    method = consent.Method("TEXT", typed[:64] or keyword)
    current = _sms_consent(session, account_id, profile_id)
    if keyword in OPT_OUT:
        event = None
        if current != Consent.UNSUBSCRIBED:
            event = consent.unsubscribe(
                session, account_id, profile_id, ConsentChannel.SMS, Purpose.MARKETING, method=method
            )
        return Inbound("opt_out", account_id, profile_id, event_id=event)
    if keyword in OPT_IN:
        event = None
        if current == Consent.UNSUBSCRIBED:
            event = consent.subscribe(
                session, account_id, profile_id, ConsentChannel.SMS, Purpose.MARKETING, method=method
            )
        return Inbound("opt_in", account_id, profile_id, event_id=event)
    if keyword in HELP:
        account = session.get(Account, account_id)
        name = account.name if account is not None else ""
        return Inbound("help", account_id, profile_id, answer=help_text.replace("{organization}", name))
    properties: dict[str, Any] = dict(last.context or {}) if last is not None else {}
    properties.update({"Message Body": body, "From Number": sender, "To Number": form.get("To") or ""})
    event = record_event(
        session,
        account_id,
        profile_id=profile_id,
        metric_name=REPLIED_SMS,
        properties=properties,
        unique_id=form.get("MessageSid") or None,
    )
    return Inbound("reply", account_id, profile_id, event_id=event)


def _phone(value: str) -> str | None:
    try:
        return normalize_phone(value)
    except IdentifierError:
        return None


def _conversation(
    session: Session, phone: str, fallback_account: str | None
) -> tuple[str, str, MessageSend | None] | None:
    """(account, profile, last SMS sent to the number) for an inbound text from `phone`."""
    last = session.execute(
        select(MessageSend)
        .where(MessageSend.channel == _SMS, MessageSend.recipient == phone)
        .order_by(MessageSend.created.desc(), MessageSend.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    account_id = last.account_id if last is not None else fallback_account
    if account_id is None:
        return None
    profile_id = session.execute(
        select(Profile.id).where(Profile.account_id == account_id, Profile.phone_number == phone)
    ).scalar_one_or_none()
    if profile_id is None:
        if last is None or session.get(Profile, (account_id, last.profile_id)) is None:
            return None  # a number nobody in the account has now (the profile was deleted)
        profile_id = last.profile_id
    return account_id, profile_id, last
