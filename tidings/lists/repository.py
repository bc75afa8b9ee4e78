"""Queries on lists and their members."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from tidings.jsonapi.filters import FilterField
from tidings.lists.tables import List, ListFirstJoin, ListMember
from tidings.profiles import repository as profiles_repository
from tidings.profiles.tables import Profile, PushToken

LIST_FILTERS: dict[str, FilterField] = {
    "id": FilterField(List.id),
    "name": FilterField(List.name),
    "created": FilterField(List.created, kind="datetime"),
    "updated": FilterField(List.updated, kind="datetime"),
}
LIST_SORTS = {"created": List.created, "id": List.id, "name": List.name, "updated": List.updated}


def member_filters(joined_column: Any) -> dict[str, FilterField]:
    """The member endpoints' filters: the profile identifiers plus the membership's joined_group_at."""
    fields = {name: profiles_repository.FILTERS[name] for name in ("email", "phone_number", "_kx", "id")}
    fields["profile_id"] = profiles_repository.FILTERS["id"]
    fields["push_token"] = FilterField(build=_push_token)
    fields["joined_group_at"] = FilterField(joined_column, kind="datetime")
    return fields


def _push_token(op: str, value: Any) -> ColumnElement[bool]:
    owners = select(PushToken.profile_id).where(PushToken.account_id == Profile.account_id)
    owners = owners.where(PushToken.token.in_(value) if isinstance(value, list) else PushToken.token == value)
    return Profile.id.in_(owners)


def get_list(session: Session, account_id: str, list_id: str) -> List | None:
    stmt = select(List).where(List.account_id == account_id, List.id == list_id)
    return session.execute(stmt.execution_options(populate_existing=True)).scalars().first()


def lists_by_ids(session: Session, account_id: str, list_ids: list[str]) -> dict[str, List]:
    if not list_ids:
        return {}
    stmt = select(List).where(List.account_id == account_id, List.id.in_(list_ids))
    return {found.id: found for found in session.execute(stmt).scalars()}


def lists_named(session: Session, account_id: str, name: str) -> list[List]:
    stmt = select(List).where(List.account_id == account_id, List.name == name).order_by(List.id)
    return list(session.execute(stmt).scalars())


def member_ids_among(session: Session, account_id: str, list_id: str, profile_ids: list[str]) -> set[str]:
    stmt = select(ListMember.profile_id).where(
        ListMember.account_id == account_id,
        ListMember.list_id == list_id,
        ListMember.profile_id.in_(profile_ids),
    )
    return set(session.execute(stmt).scalars())


def first_joins_among(session: Session, account_id: str, list_id: str, profile_ids: list[str]) -> set[str]:
    stmt = select(ListFirstJoin.profile_id).where(
        ListFirstJoin.account_id == account_id,
        ListFirstJoin.list_id == list_id,
        ListFirstJoin.profile_id.in_(profile_ids),
    )
    return set(session.execute(stmt).scalars())


def lists_query(account_id: str) -> Select[Any]:
    return select(List).where(List.account_id == account_id)


def members_query(account_id: str, list_id: str) -> Select[Any]:
    return (
        select(Profile, ListMember.joined_group_at)
        .join(
            ListMember,
            (ListMember.account_id == Profile.account_id) & (ListMember.profile_id == Profile.id),
        )
        .where(ListMember.account_id == account_id, ListMember.list_id == list_id)
    )


def profile_counts(session: Session, account_id: str, list_ids: list[str]) -> dict[str, int]:
    if not list_ids:
        return {}
    stmt = (
        select(ListMember.list_id, func.count())
        .where(ListMember.account_id == account_id, ListMember.list_id.in_(list_ids))
        .group_by(ListMember.list_id)
    )
    counts = {lid: 0 for lid in list_ids}
    counts.update({lid: int(n) for lid, n in session.execute(stmt)})
    return counts


def lists_of_profile(account_id: str, profile_id: str) -> Select[Any]:
    member = select(ListMember.list_id).where(
        ListMember.account_id == account_id, ListMember.profile_id == profile_id
    )
    return select(List).where(List.account_id == account_id, List.id.in_(member))


def lists_of_profiles(session: Session, account_id: str, profile_ids: list[str]) -> list[tuple[str, List]]:
    """(profile id, list) for every list membership of these profiles, by list id."""
    stmt = (
        select(ListMember.profile_id, List)
        .join(List, (List.account_id == ListMember.account_id) & (List.id == ListMember.list_id))
        .where(ListMember.account_id == account_id, ListMember.profile_id.in_(profile_ids))
        .order_by(List.id)
    )
    return [(pid, found) for pid, found in session.execute(stmt).all()]
