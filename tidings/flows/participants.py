"""A profile's flow runs through a merge, an unmerge and a privacy deletion.

A merge moves the source's runs to the destination (a person waiting in a flow goes on as the
profile they became); a run the destination already has for the same flow and trigger (a list
flow both were in) is not moved: it exits, "Profile Merged". The record keeps the moved ids, so
an unmerge moves exactly those back. A privacy deletion ends the person's running runs ("Person
Deleted"); runs and traces keep only ids, so they stay for the flow's counts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session, aliased

from tidings.db.base import utcnow
from tidings.flows.entry import RUNNING
from tidings.flows.tables import FlowRun
from tidings.profiles.participants import ProfileParticipant


def move(
    session: Session, account_id: str, source_id: str, destination_id: str, merge_id: str
) -> dict[str, Any]:
    theirs = aliased(FlowRun)
    clash = (
        select(theirs.id)
        .where(
            theirs.account_id == account_id,
            theirs.profile_id == destination_id,
            theirs.flow_id == FlowRun.flow_id,
            theirs.trigger_key == FlowRun.trigger_key,
        )
        .exists()
    )
    mine = and_(FlowRun.account_id == account_id, FlowRun.profile_id == source_id)
    blocked = list(session.execute(select(FlowRun.id).where(mine, clash)).scalars())
    if blocked:
        session.execute(
            update(FlowRun)
            .where(FlowRun.account_id == account_id, FlowRun.id.in_(blocked), FlowRun.status.in_(RUNNING))
            .values(status="exited", exit_reason="Profile Merged", due_at=None, updated_at=utcnow())
        )
    ids = [i for i in session.execute(select(FlowRun.id).where(mine)).scalars() if i not in set(blocked)]
    if ids:
        session.execute(
            update(FlowRun)
            .where(FlowRun.account_id == account_id, FlowRun.id.in_(ids))
            .values(profile_id=destination_id)
        )
    return {"flow_runs": ids}


def restore(
    session: Session,
    account_id: str,
    source_id: str,
    destination_id: str,
    record: dict[str, Any],
    merge_id: str,
) -> None:
    ids = list(record.get("flow_runs") or [])
    if ids:
        session.execute(
            update(FlowRun)
            .where(
                FlowRun.account_id == account_id, FlowRun.profile_id == destination_id, FlowRun.id.in_(ids)
            )
            .values(profile_id=source_id)
        )


def forget(session: Session, account_id: str, profile_id: str) -> None:
    session.execute(
        update(FlowRun)
        .where(
            FlowRun.account_id == account_id, FlowRun.profile_id == profile_id, FlowRun.status.in_(RUNNING)
        )
        .values(status="exited", exit_reason="Person Deleted", due_at=None, updated_at=utcnow())
    )


FLOW_RUNS = ProfileParticipant("flow_runs", move, restore, forget)
