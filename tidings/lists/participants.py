"""List memberships through a merge, an unmerge and a privacy deletion."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete as _delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.db.dialect import insert_ignore
from tidings.lists import hooks
from tidings.lists.tables import ListFirstJoin, ListMember
from tidings.profiles.participants import ProfileParticipant


def _memberships(session: Session, account_id: str, profile_id: str) -> dict[str, dt.datetime]:
    stmt = select(ListMember.list_id, ListMember.joined_group_at).where(
        ListMember.account_id == account_id, ListMember.profile_id == profile_id
    )
    return {list_id: joined for list_id, joined in session.execute(stmt)}


def move(
    session: Session, account_id: str, source_id: str, destination_id: str, merge_id: str
) -> dict[str, Any]:
    source = _memberships(session, account_id, source_id)
    destination = _memberships(session, account_id, destination_id)
    gained = [list_id for list_id in source if list_id not in destination]
    if gained:
        session.execute(
            insert_ignore(
                session,
                ListMember.__table__,  # type: ignore[arg-type]
                [
                    {
                        "account_id": account_id,
                        "list_id": list_id,
                        "profile_id": destination_id,
                        "joined_group_at": source[list_id],
                    }
                    for list_id in gained
                ],
            )
        )
    firsts = session.execute(
        select(ListFirstJoin.list_id, ListFirstJoin.joined_at).where(
            ListFirstJoin.account_id == account_id, ListFirstJoin.profile_id == source_id
        )
    ).all()
    if firsts:
        # The destination inherits the first joins, so a later re-add does not count as new.
        session.execute(
            insert_ignore(
                session,
                ListFirstJoin.__table__,  # type: ignore[arg-type]
                [
                    {"account_id": account_id, "list_id": lid, "profile_id": destination_id, "joined_at": at}
                    for lid, at in firsts
                ],
            )
        )
    session.execute(
        _delete(ListMember).where(ListMember.account_id == account_id, ListMember.profile_id == source_id)
    )
    session.flush()
    for list_id in gained:
        hooks.notify(session, account_id, list_id, [destination_id])
    return {
        "lists": [[list_id, joined.isoformat()] for list_id, joined in source.items()],
        "gained": gained,
    }


def restore(
    session: Session,
    account_id: str,
    source_id: str,
    destination_id: str,
    record: dict[str, Any],
    merge_id: str,
) -> None:
    rows = [
        {
            "account_id": account_id,
            "list_id": list_id,
            "profile_id": source_id,
            "joined_group_at": dt.datetime.fromisoformat(joined),
        }
        for list_id, joined in record.get("lists", [])
    ]
    if rows:
        session.execute(insert_ignore(session, ListMember.__table__, rows))  # type: ignore[arg-type]
    gained = list(record.get("gained", []))
    if gained:
        session.execute(
            _delete(ListMember).where(
                ListMember.account_id == account_id,
                ListMember.profile_id == destination_id,
                ListMember.list_id.in_(gained),
            )
        )
    session.flush()
    for row in rows:
        hooks.notify(session, account_id, row["list_id"], [source_id])
    for list_id in gained:
        hooks.notify(session, account_id, list_id, [destination_id])


def delete(session: Session, account_id: str, profile_id: str) -> None:
    for table in (ListMember, ListFirstJoin):
        session.execute(_delete(table).where(table.account_id == account_id, table.profile_id == profile_id))
    session.flush()


LIST_MEMBERSHIPS = ProfileParticipant("list_memberships", move, restore, delete)
