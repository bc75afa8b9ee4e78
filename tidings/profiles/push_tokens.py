"""Push tokens: registering a device token for a profile, listing and deleting them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.jsonapi.documents import Urls, iso, relationship, resource
from tidings.jsonapi.errors import NotFound
from tidings.jsonapi.filters import FilterField
from tidings.profiles import hooks
from tidings.profiles.participants import ProfileParticipant
from tidings.profiles.tables import PushToken

FILTERS = {
    "id": FilterField(PushToken.id),
    "profile.id": FilterField(PushToken.profile_id),
    "platform": FilterField(PushToken.platform),
    "enablement_status": FilterField(PushToken.enablement_status),
}


def tokens_for_profiles(session: Session, account_id: str, profile_ids: list[str]) -> list[PushToken]:
    if not profile_ids:
        return []
    stmt = (
        select(PushToken)
        .where(PushToken.account_id == account_id, PushToken.profile_id.in_(profile_ids))
        .order_by(PushToken.id)
    )
    return list(session.execute(stmt).scalars())


def tokens_query(account_id: str) -> Select[Any]:
    return select(PushToken).where(PushToken.account_id == account_id)


def get_token(session: Session, account_id: str, token_id: str) -> PushToken:
    token = session.get(PushToken, (account_id, token_id))
    if token is None:
        raise NotFound(f"A push token with id {token_id} does not exist.")
    return token


def register_token(
    session: Session, account_id: str, profile_id: str, attributes: dict[str, Any]
) -> PushToken:
    """Register (or re-register) a token for the profile; a token has one owner, the latest."""
    now = utcnow()
    existing = session.execute(
        select(PushToken).where(PushToken.account_id == account_id, PushToken.token == attributes["token"])
    ).scalar_one_or_none()
    token = existing or PushToken(account_id=account_id, id=ulid(), token=attributes["token"], created=now)
    owners = [profile_id] if existing is None else [profile_id, existing.profile_id]
    token.profile_id = profile_id
    token.platform = attributes["platform"]
    token.vendor = attributes.get("vendor") or token.vendor or ("apns" if token.platform == "ios" else "fcm")
    token.enablement_status = attributes.get("enablement_status") or "AUTHORIZED"
    token.background = attributes.get("background") or "AVAILABLE"
    token.device_metadata = attributes.get("device_metadata")
    token.recorded_date = now
    if existing is None:
        session.add(token)
    session.flush()
    hooks.notify(session, account_id, owners, "push_token")
    return token


def unregister_token(session: Session, account_id: str, profile_id: str | None, token_value: str) -> None:
    token = session.execute(
        select(PushToken).where(PushToken.account_id == account_id, PushToken.token == token_value)
    ).scalar_one_or_none()
    if token is not None and (profile_id is None or token.profile_id == profile_id):
        token.enablement_status = "UNAUTHORIZED"
        session.flush()
        hooks.notify(session, account_id, [token.profile_id], "push_token")


def delete_token(session: Session, account_id: str, token_id: str) -> None:
    token = get_token(session, account_id, token_id)
    session.delete(token)
    session.flush()
    hooks.notify(session, account_id, [token.profile_id], "push_token")


def push_token_resource(urls: Urls, token: PushToken, *, fields: list[str] | None = None) -> dict[str, Any]:
    attributes = {
        "created": iso(token.created),
        "token": token.token,
        "enablement_status": token.enablement_status,
        "platform": token.platform,
        "vendor": token.vendor,
        "background": token.background,
        "recorded_date": iso(token.recorded_date),
        "metadata": token.device_metadata,
    }
    profile = relationship(
        "profile",
        token.profile_id,
        urls.relationship("push-tokens", token.id, "profile"),
        urls.related("push-tokens", token.id, "profile"),
        many=False,
    )
    return resource(
        "push-token",
        token.id,
        attributes,
        urls.resource("push-tokens", token.id),
        relationships={"profile": profile},
        fields=fields,
    )


# ------------------------------------------------------------------ merges and deletions


def move_push_tokens(
    session: Session, account_id: str, source_id: str, destination_id: str, merge_id: str
) -> dict[str, Any]:
    ids = list(
        session.execute(
            select(PushToken.id).where(PushToken.account_id == account_id, PushToken.profile_id == source_id)
        ).scalars()
    )
    if ids:
        session.execute(
            update(PushToken)
            .where(PushToken.account_id == account_id, PushToken.id.in_(ids))
            .values(profile_id=destination_id)
        )
    return {"tokens": ids}


def restore_push_tokens(
    session: Session,
    account_id: str,
    source_id: str,
    destination_id: str,
    record: dict[str, Any],
    merge_id: str,
) -> None:
    ids = record.get("tokens") or []
    if ids:
        session.execute(
            update(PushToken)
            .where(
                PushToken.account_id == account_id,
                PushToken.id.in_(ids),
                PushToken.profile_id == destination_id,
            )
            .values(profile_id=source_id)
        )


def delete_push_tokens(session: Session, account_id: str, profile_id: str) -> None:
    session.execute(
        delete(PushToken).where(PushToken.account_id == account_id, PushToken.profile_id == profile_id)
    )


PUSH_TOKENS = ProfileParticipant("push_tokens", move_push_tokens, restore_push_tokens, delete_push_tokens)
