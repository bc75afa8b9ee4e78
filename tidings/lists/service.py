"""Lists: CRUD and membership. Membership never changes consent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.dialect import insert_ignore
from tidings.db.ids import short_id
from tidings.events.store import record_event
from tidings.jsonapi.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from tidings.lists import hooks, repository
from tidings.lists.tables import List, ListFirstJoin, ListMember
from tidings.profiles import repository as profiles_repository

# The account default for lists created without one: Klaviyo's default is double opt-in.
DEFAULT_OPT_IN = "double_opt_in"
MAX_MEMBERS_PER_REQUEST = 1000
# Klaviyo's flows trigger on "Added to List"; the join is kept as an event of this metric.
JOIN_METRIC = "Added to List"


def not_found(list_id: str) -> NotFound:
    return NotFound(f"A list with id {list_id} does not exist.")


def get_list(session: Session, account_id: str, list_id: str) -> List:
    found = repository.get_list(session, account_id, list_id)
    if found is None:
        raise not_found(list_id)
    return found


def create_list(session: Session, account_id: str, name: str, opt_in_process: str | None) -> List:
    if not name.strip():
        raise InvalidInput("A list needs a name.", pointer="/data/attributes/name")
    now = utcnow()
    created = List(
        account_id=account_id,
        id=short_id(),
        name=name,
        opt_in_process=opt_in_process or DEFAULT_OPT_IN,
        created=now,
        updated=now,
    )
    session.add(created)
    session.flush()
    return created


def update_list(
    session: Session, account_id: str, list_id: str, body_id: str, attributes: dict[str, Any]
) -> List:
    if body_id != list_id:
        raise Conflict(
            f"The id in the body ({body_id}) does not match the URL ({list_id}).", pointer="/data/id"
        )
    found = get_list(session, account_id, list_id)
    if attributes.get("name") is not None:
        if not str(attributes["name"]).strip():
            raise InvalidInput("A list needs a name.", pointer="/data/attributes/name")
        found.name = attributes["name"]
    if attributes.get("opt_in_process") is not None:
        found.opt_in_process = attributes["opt_in_process"]
    found.updated = utcnow()
    session.flush()
    return found


def delete_list(session: Session, account_id: str, list_id: str) -> None:
    found = get_list(session, account_id, list_id)
    members = list(
        session.execute(
            select(ListMember.profile_id).where(
                ListMember.account_id == account_id, ListMember.list_id == list_id
            )
        ).scalars()
    )
    for table in (ListMember, ListFirstJoin):
        session.execute(delete(table).where(table.account_id == account_id, table.list_id == list_id))
    session.delete(found)
    session.flush()
    hooks.notify(session, account_id, list_id, members)


def _checked_profiles(session: Session, account_id: str, ids: list[str]) -> list[str]:
    if len(ids) > MAX_MEMBERS_PER_REQUEST:
        raise PayloadTooLarge(
            f"At most {MAX_MEMBERS_PER_REQUEST} profiles per request; got {len(ids)}.", pointer="/data"
        )
    unique = list(dict.fromkeys(ids))
    known = profiles_repository.profiles_by_ids(session, account_id, unique)
    for index, profile_id in enumerate(ids):
        if profile_id not in known:
            raise InvalidInput(f"A profile with id {profile_id} does not exist.", pointer=f"/data/{index}/id")
    return unique


def add_profiles(session: Session, account_id: str, list_id: str, profile_ids: list[str]) -> list[str]:
    """Add profiles (idempotent); returns the ids that were not members before."""
    found = get_list(session, account_id, list_id)
    ids = _checked_profiles(session, account_id, profile_ids)
    if not ids:
        return []
    now = utcnow()
    existing = set(
        session.execute(
            select(ListMember.profile_id).where(
                ListMember.account_id == account_id,
                ListMember.list_id == list_id,
                ListMember.profile_id.in_(ids),
            )
        ).scalars()
    )
    added = [pid for pid in ids if pid not in existing]
    if not added:
        return []
    rows = [
        {"account_id": account_id, "list_id": list_id, "profile_id": pid, "joined_group_at": now}
        for pid in added
    ]
    session.execute(insert_ignore(session, ListMember.__table__, rows))  # type: ignore[arg-type]
    joined_before = set(
        session.execute(
            select(ListFirstJoin.profile_id).where(
                ListFirstJoin.account_id == account_id,
                ListFirstJoin.list_id == list_id,
                ListFirstJoin.profile_id.in_(added),
            )
        ).scalars()
    )
    first = [pid for pid in added if pid not in joined_before]
    if first:
        session.execute(
            insert_ignore(
                session,
                ListFirstJoin.__table__,  # type: ignore[arg-type]
                [
                    {"account_id": account_id, "list_id": list_id, "profile_id": pid, "joined_at": now}
                    for pid in first
                ],
            )
        )
        # Only the first join is an event: a re-add must not re-trigger list-triggered flows.
        for pid in first:
            record_event(
                session,
                account_id,
                profile_id=pid,
                metric_name=JOIN_METRIC,
                properties={"list_id": list_id, "list_name": found.name},
                time=now,
                unique_id=f"list-join:{list_id}",
            )
    session.flush()
    hooks.notify(session, account_id, list_id, added)
    return added


def remove_profiles(session: Session, account_id: str, list_id: str, profile_ids: list[str]) -> None:
    get_list(session, account_id, list_id)
    ids = _checked_profiles(session, account_id, profile_ids)
    if ids:
        session.execute(
            delete(ListMember).where(
                ListMember.account_id == account_id,
                ListMember.list_id == list_id,
                ListMember.profile_id.in_(ids),
            )
        )
        session.flush()
        hooks.notify(session, account_id, list_id, ids)
