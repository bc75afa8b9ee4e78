"""Lists: CRUD and membership. Membership never changes consent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.dialect import insert_ignore
from tidings.db.ids import short_id
from tidings.events.metrics import KLAVIYO, MetricKey
from tidings.events.store import NewEvent, write_events
from tidings.jsonapi.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from tidings.lists import hooks, repository
from tidings.lists.tables import List, ListFirstJoin, ListMember
from tidings.profiles import repository as profiles_repository
from tidings.tags import service as tags

# The account default for lists created without one: Klaviyo's default is double opt-in.
DEFAULT_OPT_IN = "double_opt_in"
MAX_MEMBERS_PER_REQUEST = 1000
# Klaviyo's flows trigger on "Added to List"; the join is kept as an event of this metric.
JOIN_METRIC = "Added to List"
JOIN_CHUNK = 1000  # profile ids per membership lookup


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
    tags.forget_resources(session, account_id, "list", [list_id])
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
    return _join(session, account_id, found, ids)


def lists_by_ids(session: Session, account_id: str, list_ids: list[str]) -> dict[str, List]:
    """The account's lists among `list_ids` (missing ones are left out)."""
    return repository.lists_by_ids(session, account_id, list_ids)


def find_list(session: Session, account_id: str, name_or_id: str) -> List:
    """The list with this id, or else the one list with this name (for the command line)."""
    found = repository.get_list(session, account_id, name_or_id)
    if found is not None:
        return found
    named = repository.lists_named(session, account_id, name_or_id)
    if not named:
        raise NotFound(f"No list has the id or the name {name_or_id!r}.")
    if len(named) > 1:
        ids = ", ".join(x.id for x in named)
        raise Conflict(f"Several lists are named {name_or_id!r} ({ids}); give the id.")
    return named[0]


def join_profiles(session: Session, account_id: str, list_id: str, profile_ids: list[str]) -> list[str]:
    """Add profiles the caller knows exist (bulk imports), any number at once; returns the ids that
    were not members before. As add_profiles: consent is untouched, a first join is an event."""
    return _join(
        session, account_id, get_list(session, account_id, list_id), list(dict.fromkeys(profile_ids))
    )


def _join(session: Session, account_id: str, found: List, ids: list[str]) -> list[str]:
    if not ids:
        return []
    list_id = found.id
    now = utcnow()
    added: list[str] = []
    first: list[str] = []
    for start in range(0, len(ids), JOIN_CHUNK):
        chunk = ids[start : start + JOIN_CHUNK]
        existing = repository.member_ids_among(session, account_id, list_id, chunk)
        fresh = [pid for pid in chunk if pid not in existing]
        if not fresh:
            continue
        rows = [
            {"account_id": account_id, "list_id": list_id, "profile_id": pid, "joined_group_at": now}
            for pid in fresh
        ]
        session.execute(insert_ignore(session, ListMember.__table__, rows))  # type: ignore[arg-type]
        joined_before = repository.first_joins_among(session, account_id, list_id, fresh)
        new_first = [pid for pid in fresh if pid not in joined_before]
        if new_first:
            session.execute(
                insert_ignore(
                    session,
                    ListFirstJoin.__table__,  # type: ignore[arg-type]
                    [
                        {"account_id": account_id, "list_id": list_id, "profile_id": pid, "joined_at": now}
                        for pid in new_first
                    ],
                )
            )
        added += fresh
        first += new_first
    if not added:
        return []
    # Only the first join is an event: a re-add must not re-trigger list-triggered flows.
    properties = {"list_id": list_id, "list_name": found.name}
    write_events(
        session,
        account_id,
        [
            NewEvent(
                profile_id=pid,
                metric=MetricKey(JOIN_METRIC, KLAVIYO),
                time=now,
                properties=dict(properties),
                unique_id=f"list-join:{list_id}",
                source="internal",
            )
            for pid in first
        ],
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
