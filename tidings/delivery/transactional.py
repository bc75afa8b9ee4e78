"""Transactional sends: a message to one profile, keyed by the caller's idempotency key.

`send_message` is what integrators reach through `POST /api/x-tidings/message-sends`, and what
Tidings' own transactional mail (double opt-in confirmations) uses. The message's definition is
stored once (`delivery_api_messages`) and the ledger row points at it; the same key again
returns the first row and sends nothing more, and the same key for a different message is a
conflict, never a second send.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tidings.accounts.repository import get_account
from tidings.db.ids import ulid
from tidings.delivery import service, sources
from tidings.delivery.messages import EmailDefinition, MessageDefinition, PushDefinition, SmsDefinition
from tidings.delivery.schemas import MessageSendAttributes
from tidings.delivery.service import ApiSource, Planned
from tidings.delivery.tables import ApiMessage, Channel, MessageSend, SourceKind
from tidings.jsonapi.errors import APIError, Conflict, ErrorList, InvalidInput
from tidings.profiles.identifiers import IdentifierError, normalize_email
from tidings.profiles.identity import Source
from tidings.profiles.service import get_profile, resolve_block
from tidings.templates.service import get_template

FALLBACK_DOMAIN = "localhost"


@dataclass(frozen=True)
class Sent:
    planned: Planned
    replayed: bool  # the key had been used for this same message: nothing new was planned


def send_message(
    session: Session,
    account_id: str,
    *,
    profile_id: str,
    definition: MessageDefinition,
    key: str,
    default_from: str = f"tidings@{FALLBACK_DOMAIN}",
    send_at: dt.datetime | None = None,
    event_id: str | None = None,
) -> Sent:
    """Plan `definition` for the profile under the caller's `key` (insert-if-absent)."""
    source = ApiSource(key)
    existing = service.by_key(session, account_id, service.idempotency_key(source, profile_id))
    stored = sources.DEFINITION.dump_python(definition, mode="json")
    if existing is not None:
        _same_message(session, existing, profile_id, stored, key)
        return Sent(Planned(existing, created=False), replayed=True)
    message = ApiMessage(account_id=account_id, id=ulid(), definition=stored)
    session.add(message)
    session.flush()
    planned = service.plan(
        session,
        account_id,
        source=source,
        profile_id=profile_id,
        channel=Channel(definition.channel),
        domain=message_domain(session, account_id, definition, default_from),
        planned_for=send_at,
        event_id=event_id,
        source_id=message.id,
    )
    if not planned.created:  # a concurrent request with the same key planned first
        _same_message(session, planned.send, profile_id, stored, key)
    return Sent(planned, replayed=not planned.created)


def _same_message(
    session: Session, send: MessageSend, profile_id: str, stored: dict[str, Any], key: str
) -> None:
    first = session.get(ApiMessage, (send.account_id, send.source_id or ""))
    if send.profile_id != profile_id or first is None or first.definition != stored:
        raise Conflict(
            f"The idempotency key {key!r} was already used for another message; "
            "use a new key for a new message."
        )


def message_domain(
    session: Session, account_id: str, definition: MessageDefinition, default_from: str
) -> str:
    """The domain of the message's From address, for its Message-ID."""
    address = definition.from_email if isinstance(definition, EmailDefinition) else None
    if not address:
        account = get_account(session, account_id)
        contact: dict[str, Any] = (account.contact_information or {}) if account is not None else {}
        address = str(contact.get("default_sender_email") or "") or default_from
    return address.rpartition("@")[2].lower() or FALLBACK_DOMAIN


def resolve_api_message(session: Session, account_id: str, source_id: str) -> MessageDefinition | None:
    """The definition of a transactional send (the resolver of source kind `api`)."""
    message = session.get(ApiMessage, (account_id, source_id))
    if message is None:
        return None
    return sources.DEFINITION.validate_python(message.definition)


KIND = SourceKind.API


# ------------------------------------------------------------------ the endpoint's request


def definition_of(attributes: MessageSendAttributes) -> MessageDefinition:
    """The message a request describes; what is missing or malformed is a 400 at its field."""
    base = "/data/attributes"
    errors: list[APIError] = []
    for name in ("from_email", "reply_to_email"):
        value = getattr(attributes, name)
        if value is not None:
            try:
                normalize_email(value)
            except IdentifierError:
                errors.append(InvalidInput(f"{value!r} is not an email address.", pointer=f"{base}/{name}"))
    context = {"$message": f"api:{attributes.idempotency_key}"}
    definition: MessageDefinition | None = None
    if attributes.channel == "email":
        if attributes.template_id is None and not attributes.html:
            errors.append(
                InvalidInput("An email needs a template_id or html.", pointer=f"{base}/template_id")
            )
        if not attributes.subject:
            errors.append(InvalidInput("An email needs a subject.", pointer=f"{base}/subject"))
        definition = EmailDefinition(
            transactional=attributes.transactional,
            smart_sending=not attributes.transactional,
            context=context,
            template_id=attributes.template_id,
            html=attributes.html,
            text=attributes.text,
            subject=attributes.subject or "",
            preview_text=attributes.preview_text,
            from_email=attributes.from_email,
            from_label=attributes.from_label,
            reply_to_email=attributes.reply_to_email,
        )
    elif not attributes.body:
        errors.append(InvalidInput(f"An {attributes.channel} message needs a body.", pointer=f"{base}/body"))
    elif attributes.channel == "sms":
        definition = SmsDefinition(
            transactional=attributes.transactional,
            smart_sending=not attributes.transactional,
            context=context,
            body=attributes.body,
        )
    else:
        definition = PushDefinition(
            transactional=attributes.transactional,
            smart_sending=not attributes.transactional,
            context=context,
            title=attributes.title,
            body=attributes.body,
            data=attributes.data or {},
        )
    if errors:
        raise ErrorList(errors)
    assert definition is not None
    return definition


def send_requested(
    session: Session, account_id: str, attributes: MessageSendAttributes, *, default_from: str
) -> Sent:
    """POST /api/x-tidings/message-sends: the profile found (or made), then `send_message`."""
    definition = definition_of(attributes)
    ref = attributes.profile.model_dump(exclude_none=True)
    profile_id = ref.pop("id", None)
    if profile_id is None and not ref:
        raise InvalidInput(
            "The profile needs an id, an email, a phone_number or an external_id.",
            pointer="/data/attributes/profile",
        )
    if profile_id is not None and not ref:
        get_profile(session, account_id, profile_id)  # NotFound unless it is this account's
        resolved = profile_id
    else:
        result = resolve_block(
            session,
            account_id,
            ref,
            profile_id=profile_id,
            meta=None,
            source=Source.API,
            pointer="/data/attributes/profile/email",
        )
        assert result.profile_id is not None
        resolved = result.profile_id
    if template := attributes.template_id:
        get_template(session, account_id, template)  # 404 now rather than a skipped send later
    return send_message(
        session,
        account_id,
        profile_id=resolved,
        definition=definition,
        key=attributes.idempotency_key,
        default_from=default_from,
        send_at=attributes.send_at,
    )
