"""Why a profile is in or out of a segment: each condition evaluated for that profile, and history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.jsonapi.documents import iso
from tidings.profiles.tables import Profile
from tidings.segments import clock, compiler, sql
from tidings.segments.definition import SegmentDefinition
from tidings.segments.tables import Segment, SegmentChange, SegmentMember


def explain(session: Session, account_id: str, segment: Segment, profile_id: str) -> dict[str, Any]:
    ctx = sql.Context(session, account_id, utcnow())
    definition = SegmentDefinition.model_validate(segment.definition)
    raw_groups = segment.definition.get("condition_groups", [])

    def holds(clause: Any) -> bool:
        stmt = select(clause).where(Profile.account_id == account_id, Profile.id == profile_id)
        return bool(session.execute(stmt).scalar())

    groups = []
    for g, group in enumerate(definition.condition_groups):
        conditions = [
            {
                "condition": raw_groups[g]["conditions"][i],
                "matches": holds(compiler.compile_condition(ctx, cond)),
            }
            for i, cond in enumerate(group.conditions)
        ]
        groups.append({"matches": any(c["matches"] for c in conditions), "conditions": conditions})
    member = session.get(SegmentMember, (account_id, segment.id, profile_id))
    # When time alone may next change this membership (the segments.tick job looks then).
    due = clock.due_at(session, account_id, segment.id, profile_id)
    history = session.execute(
        select(SegmentChange)
        .where(
            SegmentChange.account_id == account_id,
            SegmentChange.segment_id == segment.id,
            SegmentChange.profile_id == profile_id,
        )
        .order_by(SegmentChange.at, SegmentChange.id)
    ).scalars()
    return {
        "segment_id": segment.id,
        "profile_id": profile_id,
        "is_member": member is not None,
        "joined_group_at": iso(member.joined_group_at) if member else None,
        "matches_now": all(group["matches"] for group in groups),
        "evaluated_at": iso(ctx.now),
        "next_change_at": iso(due) if due is not None else None,
        "logic": "condition_groups are ANDed; the conditions of a group are ORed",
        "condition_groups": groups,
        "history": [
            {"change": "entered" if c.entered else "exited", "at": iso(c.at), "reason": c.reason}
            for c in history
        ],
    }
