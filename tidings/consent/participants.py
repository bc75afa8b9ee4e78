"""How consent, suppressions and push tokens follow a profile through merge, unmerge and deletion.

Merge rules: a channel's consent the destination lacks comes from the source; where both
have one, the more recently updated wins (consent is a fact about the person, and the
newest statement of it is the one to honour). Suppressions are united. Push tokens move.
Each move returns a record for the merge log so that unmerge puts things back; a row the
destination changed after the merge is left as it is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from tidings.consent.tables import (
    LIST_SUPPRESSIONS,
    SUBSCRIPTIONS,
    SUPPRESSIONS,
)
from tidings.profiles.participants import ProfileParticipant

SUB_COLUMNS = [c.name for c in SUBSCRIPTIONS.columns]


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _row_json(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _iso(v) for k, v in row.items()}


def _from_json(row: dict[str, Any], table: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in table.columns:
        value = row.get(column.name)
        if isinstance(value, str) and column.type.__class__.__name__ == "UTCDateTime":
            value = dt.datetime.fromisoformat(value)
        out[column.name] = value
    return out


def _rows(session: Session, table: Any, account_id: str, profile_id: str) -> list[dict[str, Any]]:
    stmt = select(table).where(table.c.account_id == account_id, table.c.profile_id == profile_id)
    return [dict(r) for r in session.execute(stmt).mappings()]


def move_consent(
    session: Session, account_id: str, source_id: str, destination_id: str, merge_id: str
) -> dict[str, Any]:
    subs, supp, lsupp = SUBSCRIPTIONS, SUPPRESSIONS, LIST_SUPPRESSIONS
    src_subs = _rows(session, subs, account_id, source_id)
    dst_subs = {(r["channel"], r["purpose"]): r for r in _rows(session, subs, account_id, destination_id)}
    replaced: list[dict[str, Any]] = []  # destination rows replaced: [before, after]
    for row in src_subs:
        key = (row["channel"], row["purpose"])
        current = dst_subs.get(key)
        if current is not None and current["last_updated"] >= row["last_updated"]:
            continue
        new = {**row, "profile_id": destination_id}
        if current is not None:
            session.execute(
                delete(subs).where(
                    subs.c.account_id == account_id,
                    subs.c.profile_id == destination_id,
                    subs.c.channel == key[0],
                    subs.c.purpose == key[1],
                )
            )
        session.execute(insert(subs).values(**new))
        replaced.append({"before": _row_json(current) if current else None, "after": _row_json(new)})
    src_supp = _rows(session, supp, account_id, source_id)
    dst_reasons = {r["reason"] for r in _rows(session, supp, account_id, destination_id)}
    added_supp = [r for r in src_supp if r["reason"] not in dst_reasons]
    for row in added_supp:
        session.execute(insert(supp).values(**{**row, "profile_id": destination_id}))
    src_lsupp = _rows(session, lsupp, account_id, source_id)
    dst_lists = {r["list_id"] for r in _rows(session, lsupp, account_id, destination_id)}
    added_lsupp = [r for r in src_lsupp if r["list_id"] not in dst_lists]
    for row in added_lsupp:
        session.execute(insert(lsupp).values(**{**row, "profile_id": destination_id}))
    for table in (subs, supp, lsupp):
        session.execute(
            delete(table).where(table.c.account_id == account_id, table.c.profile_id == source_id)
        )
    return {
        "subscriptions": [_row_json(r) for r in src_subs],
        "replaced": replaced,
        "suppressions": [_row_json(r) for r in src_supp],
        "added_suppressions": [r["reason"] for r in added_supp],
        "list_suppressions": [_row_json(r) for r in src_lsupp],
        "added_list_suppressions": [r["list_id"] for r in added_lsupp],
    }


def restore_consent(
    session: Session,
    account_id: str,
    source_id: str,
    destination_id: str,
    record: dict[str, Any],
    merge_id: str,
) -> None:
    subs, supp, lsupp = SUBSCRIPTIONS, SUPPRESSIONS, LIST_SUPPRESSIONS
    for item in record.get("replaced", []):
        after = _from_json(item["after"], subs)
        where = [
            subs.c.account_id == account_id,
            subs.c.profile_id == destination_id,
            subs.c.channel == after["channel"],
            subs.c.purpose == after["purpose"],
        ]
        current = session.execute(select(subs.c.last_updated).where(*where)).scalar()
        if current != after["last_updated"]:
            continue  # changed since the merge: the destination keeps its newer statement
        session.execute(delete(subs).where(*where))
        if item["before"] is not None:
            session.execute(insert(subs).values(**_from_json(item["before"], subs)))
    for reason in record.get("added_suppressions", []):
        session.execute(
            delete(supp).where(
                supp.c.account_id == account_id, supp.c.profile_id == destination_id, supp.c.reason == reason
            )
        )
    for list_id in record.get("added_list_suppressions", []):
        session.execute(
            delete(lsupp).where(
                lsupp.c.account_id == account_id,
                lsupp.c.profile_id == destination_id,
                lsupp.c.list_id == list_id,
            )
        )
    for key, table in (("subscriptions", subs), ("suppressions", supp), ("list_suppressions", lsupp)):
        rows = [_from_json(r, table) for r in record.get(key, [])]
        if rows:
            session.execute(insert(table), rows)


def delete_consent(session: Session, account_id: str, profile_id: str) -> None:
    for table in (SUBSCRIPTIONS, SUPPRESSIONS, LIST_SUPPRESSIONS):
        session.execute(
            delete(table).where(table.c.account_id == account_id, table.c.profile_id == profile_id)
        )


CONSENT = ProfileParticipant("consent", move_consent, restore_consent, delete_consent)
