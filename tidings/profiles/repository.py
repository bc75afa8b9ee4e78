"""Queries on profiles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from tidings.db.dialect import dialect_name, in_values
from tidings.jsonapi.filters import FilterField
from tidings.profiles import facets
from tidings.profiles.identifiers import IdentifierError, normalize_phone
from tidings.profiles.tables import PROFILES, Profile, ProfileAlias, ProfileMerge


def get_profile(session: Session, account_id: str, profile_id: str) -> Profile | None:
    stmt = select(Profile).where(Profile.account_id == account_id, Profile.id == profile_id)
    return session.execute(stmt.execution_options(populate_existing=True)).scalars().first()


def profiles_by_ids(session: Session, account_id: str, ids: list[str]) -> dict[str, Profile]:
    if not ids:
        return {}
    stmt = select(Profile).where(Profile.account_id == account_id, Profile.id.in_(ids))
    return {p.id: p for p in session.execute(stmt.execution_options(populate_existing=True)).scalars()}


def lock_unless_busy(session: Session, account_id: str, ids: list[str]) -> set[str]:
    """Lock the profiles for a non-key update (`FOR NO KEY UPDATE`) where no other transaction
    holds a conflicting lock, without waiting; returns the ids locked (rows this transaction
    already holds count). SQLite has one writer: all of them."""
    if dialect_name(session) != "postgresql":
        return set(ids)
    table = PROFILES
    stmt = (
        select(table.c.id)
        .where(table.c.account_id == account_id, in_values(session, table.c.id, sorted(ids)))
        .order_by(table.c.id)
        .with_for_update(key_share=True, skip_locked=True)
    )
    return set(session.execute(stmt).scalars())


def profiles_query(account_id: str) -> Select[Any]:
    return select(Profile).where(Profile.account_id == account_id)


def _phone(value: Any) -> Any:
    try:
        return normalize_phone(str(value))
    except IdentifierError:
        return str(value)  # matches nothing, as Klaviyo answers an unknown phone


def _alias(kind: str) -> Any:
    def build(op: str, value: Any) -> ColumnElement[bool]:
        owners = select(ProfileAlias.profile_id).where(
            ProfileAlias.account_id == Profile.account_id,
            ProfileAlias.kind == kind,
            ProfileAlias.value == value,
        )
        return Profile.id.in_(owners)

    return build


FILTERS: dict[str, FilterField] = {
    "id": FilterField(Profile.id),
    "email": FilterField(Profile.email, normalize=lambda v: str(v).strip().lower()),
    "phone_number": FilterField(Profile.phone_number, normalize=_phone),
    "external_id": FilterField(Profile.external_id),
    "_kx": FilterField(build=_alias("kx")),
    "created": FilterField(Profile.created, kind="datetime"),
    "updated": FilterField(Profile.updated, kind="datetime"),
}


def filters() -> dict[str, FilterField]:
    """The profile's own filter fields and those other domains add (suppressions, push tokens)."""
    return {**FILTERS, **facets.filters()}


def sort_column(name: str | None) -> Any:
    """The column (or correlated expression, labelled `sort_key`) a sort name orders by."""
    if name in (None, "id"):
        return Profile.id
    extra = facets.sort(str(name))
    if extra is not None:
        return extra.expression().label("sort_key")
    return getattr(Profile, str(name))


def merges_query(account_id: str) -> Select[Any]:
    return select(ProfileMerge).where(ProfileMerge.account_id == account_id)
