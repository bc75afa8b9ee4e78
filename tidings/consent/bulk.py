"""Subscribing and unsubscribing profiles in bulk (and one at a time from /client).

`check_subscribe` / `check_unsubscribe` validate a whole request, reporting every bad
profile with its index, and turn it into a JSON payload that names no ORM object; the
`consent.bulk_subscribe` / `consent.bulk_unsubscribe` jobs (or the /client route, at once)
apply it with `apply_subscribe` / `apply_unsubscribe`.

Rules (Klaviyo's): only the channels present in `subscriptions` change (without
`subscriptions`, marketing for each channel whose identifier is given); subscribing through a
double opt-in list leaves consent unchanged and the list unjoined until confirmation (the
confirmation email is delivery's, told through `consent.hooks`), unless `historical_import`,
which also needs a past `consented_at` for every channel and skips "added to list" flows;
`consented_at` without `historical_import` is an error; unsubscribing with a list is scoped
to that list for its members and global for everyone else.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.consent import service
from tidings.consent.gateways import lists
from tidings.consent.policy import Channel, Purpose
from tidings.db.base import utcnow
from tidings.jsonapi.errors import APIError, ErrorList, InvalidInput, NotFound
from tidings.profiles.identifiers import IdentifierError, normalize
from tidings.profiles.identity import ProfileInput, Source, resolve_batch
from tidings.profiles.push_tokens import register_token, unregister_token
from tidings.profiles.tables import Profile

MAX_SUBSCRIBE = 1000
MAX_UNSUBSCRIBE = 100
# (wire channel, purpose) -> (channel, purpose, identifier the channel needs)
CHANNELS: dict[tuple[str, str], tuple[Channel, Purpose, str | None]] = {
    ("email", "marketing"): (Channel.EMAIL, Purpose.MARKETING, "email"),
    ("sms", "marketing"): (Channel.SMS, Purpose.MARKETING, "phone_number"),
    ("sms", "transactional"): (Channel.SMS, Purpose.TRANSACTIONAL, "phone_number"),
    ("whatsapp", "marketing"): (Channel.WHATSAPP, Purpose.MARKETING, "phone_number"),
    ("whatsapp", "transactional"): (Channel.WHATSAPP, Purpose.TRANSACTIONAL, "phone_number"),
    ("push", "marketing"): (Channel.PUSH, Purpose.MARKETING, None),
}
PROFILES = "/data/attributes/profiles/data"


def _channel(key: str) -> tuple[Channel, Purpose, str | None]:
    channel, _, purpose = key.partition("/")
    return CHANNELS[(channel, purpose)]


def _identifiers(
    attributes: dict[str, Any], pointer: str, errors: list[APIError]
) -> tuple[str | None, str | None]:
    values: dict[str, str | None] = {}
    for name in ("email", "phone_number"):
        raw = attributes.get(name)
        if raw is None:
            values[name] = None
            continue
        try:
            values[name] = normalize(name, raw)
        except IdentifierError as exc:
            errors.append(InvalidInput(exc.detail, pointer=f"{pointer}/{name}"))
            values[name] = None
    return values["email"], values["phone_number"]


def _channels(
    subscriptions: dict[str, Any] | None,
    identifiers: dict[str, str | None],
    *,
    historical: bool,
    pointer: str,
    errors: list[APIError],
    now: dt.datetime,
) -> dict[str, str | None]:
    """The channels to change: "channel/purpose" -> consented_at (ISO) or None."""
    wanted: dict[tuple[str, str], dict[str, Any]]
    if subscriptions is None:  # default: marketing for each channel whose identifier is present
        wanted = {("email", "marketing"): {}} if identifiers.get("email") else {}
        if identifiers.get("phone_number"):
            wanted[("sms", "marketing")] = {}
    else:
        wanted = {
            (channel, purpose): body
            for channel, purposes in subscriptions.items()
            if isinstance(purposes, dict)
            for purpose, body in purposes.items()
            if (channel, purpose) in CHANNELS and isinstance(body, dict)
        }
    out: dict[str, str | None] = {}
    for (channel, purpose), body in wanted.items():
        where = f"{pointer}/subscriptions/{channel}/{purpose}"
        needs = CHANNELS[(channel, purpose)][2]
        if needs and not identifiers.get(needs):
            errors.append(InvalidInput(f"Subscribing to {channel} {purpose} needs a {needs}.", pointer=where))
            continue
        consented_at = body.get("consented_at")
        when = dt.datetime.fromisoformat(consented_at) if consented_at else None
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)  # a naive datetime is UTC, as everywhere in the API
        consented_at = when.isoformat() if when else None
        if consented_at and not historical:
            errors.append(
                InvalidInput(
                    "consented_at may only be given with historical_import.", pointer=f"{where}/consented_at"
                )
            )
        if historical and (when is None or when > now):
            errors.append(
                InvalidInput(
                    "A historical import needs a consented_at in the past.", pointer=f"{where}/consented_at"
                )
            )
        out[f"{channel}/{purpose}"] = consented_at
    return out


def _check_list(session: Session, account_id: str, list_id: str | None, pointer: str) -> str | None:
    if list_id is None:
        return None
    process = lists().opt_in_process(session, account_id, list_id)
    if process is None:
        raise NotFound(f"A list with id {list_id} does not exist.", pointer=pointer)
    return process


def _known(
    session: Session, account_id: str, profiles: list[dict[str, Any]]
) -> dict[str, tuple[str | None, str | None]]:
    """(email, phone_number) of each profile named by id; 404 for an id the account lacks."""
    ids = {i: p["id"] for i, p in enumerate(profiles) if p.get("id")}
    if not ids:
        return {}
    rows = session.execute(
        select(Profile.id, Profile.email, Profile.phone_number).where(
            Profile.account_id == account_id, Profile.id.in_(sorted(set(ids.values())))
        )
    )
    found = {pid: (email, phone) for pid, email, phone in rows}
    missing = [
        NotFound(f"A profile with id {pid} does not exist.", pointer=f"{PROFILES}/{i}/id")
        for i, pid in ids.items()
        if pid not in found
    ]
    if missing:
        raise missing[0] if len(missing) == 1 else ErrorList(list(missing))
    return found


def check_subscribe(
    session: Session,
    account_id: str,
    profiles: list[dict[str, Any]],
    *,
    list_id: str | None,
    custom_source: str | None,
    historical_import: bool,
) -> dict[str, Any]:
    """Validate a bulk subscribe; the job payload. `profiles`: the `profiles.data` items."""
    if not profiles:
        raise InvalidInput("Give at least one profile.", pointer=PROFILES)
    if len(profiles) > MAX_SUBSCRIBE:
        raise InvalidInput(f"At most {MAX_SUBSCRIBE} profiles per request.", pointer=PROFILES)
    opt_in = _check_list(session, account_id, list_id, "/data/relationships/list/data/id")
    known = _known(session, account_id, profiles)
    errors: list[APIError] = []
    now = utcnow()
    items = []
    for i, profile in enumerate(profiles):
        pointer = f"{PROFILES}/{i}/attributes"
        attributes = profile.get("attributes") or {}
        email, phone = _identifiers(attributes, pointer, errors)
        if profile.get("id"):
            stored = known[profile["id"]]
            email, phone = email or stored[0], phone or stored[1]
        elif not (email or phone):
            errors.append(InvalidInput("A profile needs an email, a phone_number or an id.", pointer=pointer))
            continue
        channels = _channels(
            attributes.get("subscriptions"),
            {"email": email, "phone_number": phone},
            historical=historical_import,
            pointer=pointer,
            errors=errors,
            now=now,
        )
        tokens = ((attributes.get("subscriptions") or {}).get("push") or {}).get("tokens") or []
        items.append(
            {
                "id": profile.get("id"),
                "email": email,
                "phone_number": phone,
                "channels": channels,
                "tokens": tokens,
            }
        )
    if errors:
        raise errors[0] if len(errors) == 1 else ErrorList(errors)
    return {
        "list_id": list_id,
        "double_optin": opt_in == "double_opt_in" and not historical_import,
        "custom_source": custom_source,
        "historical_import": historical_import,
        "profiles": items,
    }


def _resolve(session: Session, account_id: str, items: list[dict[str, Any]]) -> list[str | None]:
    inputs = [
        ProfileInput(id=i.get("id"), email=i.get("email"), phone_number=i.get("phone_number")) for i in items
    ]
    return [r.profile_id for r in resolve_batch(session, account_id, inputs, source=Source.SUBSCRIPTION)]


def apply_subscribe(
    session: Session, account_id: str, payload: dict[str, Any], *, client: bool = False
) -> list[str]:
    """Apply a checked subscribe payload; returns the profile ids."""

    method = service.Method("API", "client" if client else None, payload.get("custom_source"))
    list_id = payload.get("list_id")
    profile_ids = _resolve(session, account_id, payload["profiles"])
    joined: list[str] = []
    profiles: list[str] = []
    for item, profile_id in zip(payload["profiles"], profile_ids, strict=True):
        if profile_id is None:
            continue
        profiles.append(profile_id)
        for key, consented_at in item["channels"].items():
            channel, purpose, _needs = _channel(key)
            service.subscribe(
                session,
                account_id,
                profile_id,
                channel,
                purpose,
                method=method,
                consented_at=dt.datetime.fromisoformat(consented_at) if consented_at else None,
                list_id=list_id,
                double_optin_pending=payload["double_optin"] and channel is Channel.EMAIL,
            )
        for token in item.get("tokens") or []:
            register_token(session, account_id, profile_id, token)
        # A double opt-in subscriber joins the list when they confirm (confirm_double_optin).
        waits = payload["double_optin"] and "email/marketing" in item["channels"]
        if not (waits and service.awaiting_confirmation(session, account_id, profile_id)):
            joined.append(profile_id)
    if list_id and joined:
        lists().add_members(
            session, account_id, list_id, joined, historical=bool(payload.get("historical_import"))
        )
    return profiles


def check_unsubscribe(
    session: Session, account_id: str, profiles: list[dict[str, Any]], *, list_id: str | None
) -> dict[str, Any]:
    if not profiles:
        raise InvalidInput("Give at least one profile.", pointer=PROFILES)
    if len(profiles) > MAX_UNSUBSCRIBE:
        raise InvalidInput(f"At most {MAX_UNSUBSCRIBE} profiles per request.", pointer=PROFILES)
    _check_list(session, account_id, list_id, "/data/relationships/list/data/id")
    errors: list[APIError] = []
    items = []
    for i, profile in enumerate(profiles):
        pointer = f"{PROFILES}/{i}/attributes"
        attributes = profile.get("attributes") or {}
        email, phone = _identifiers(attributes, pointer, errors)
        if not (email or phone):
            errors.append(InvalidInput("A profile needs an email or a phone_number.", pointer=pointer))
            continue
        subscriptions = attributes.get("subscriptions")
        keys: list[str] = []
        if subscriptions is None:
            keys = (["email/marketing"] if email else []) + (["sms/marketing"] if phone else [])
        else:
            for channel, purposes in subscriptions.items():
                for purpose, body in (purposes or {}).items():
                    if (channel, purpose) in CHANNELS and isinstance(body, dict):
                        needs = CHANNELS[(channel, purpose)][2]
                        if needs and not {"email": email, "phone_number": phone}.get(needs):
                            errors.append(
                                InvalidInput(
                                    f"Unsubscribing from {channel} {purpose} needs a {needs}.",
                                    pointer=f"{pointer}/subscriptions/{channel}/{purpose}",
                                )
                            )
                        keys.append(f"{channel}/{purpose}")
        tokens = ((subscriptions or {}).get("push") or {}).get("tokens") or []
        items.append(
            {"email": email, "phone_number": phone, "channels": keys, "tokens": [t["token"] for t in tokens]}
        )
    if errors:
        raise errors[0] if len(errors) == 1 else ErrorList(errors)
    return {"list_id": list_id, "profiles": items}


def apply_unsubscribe(session: Session, account_id: str, payload: dict[str, Any]) -> list[str]:

    list_id = payload.get("list_id")
    profile_ids = _resolve(session, account_id, payload["profiles"])
    done: list[str] = []
    for item, profile_id in zip(payload["profiles"], profile_ids, strict=True):
        if profile_id is None:
            continue
        done.append(profile_id)
        member = bool(list_id) and lists().is_member(session, account_id, str(list_id), profile_id)
        for key in item["channels"]:
            channel, purpose, _needs = _channel(key)
            scoped = list_id if member and channel is Channel.EMAIL and purpose is Purpose.MARKETING else None
            service.unsubscribe(session, account_id, profile_id, channel, purpose, list_id=scoped)
        for token in item.get("tokens") or []:
            unregister_token(session, account_id, profile_id, token)
    return done
