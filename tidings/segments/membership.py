"""Segment membership: evaluate the compiled predicate, store the difference, keep the history.

Segments that refer to segments are evaluated in dependency order, so one pass over the
touched profiles carries a change through every segment that depends on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.profiles.tables import Profile
from tidings.segments import compiler
from tidings.segments.definition import SegmentDefinition
from tidings.segments.tables import Segment, SegmentChange, SegmentMember

CHUNK = 500


def references(definition: dict[str, Any]) -> set[str]:
    """Group ids (lists or segments) a stored definition refers to."""
    ids: set[str] = set()
    for group in definition.get("condition_groups", []):
        for cond in group.get("conditions", []):
            if cond.get("type") == "profile-group-membership":
                ids.update(cond.get("group_ids") or [])
    return ids


def ordered(segments: list[Segment]) -> list[Segment]:
    """Referenced segments before the segments that refer to them (definitions have no cycles)."""
    by_id = {s.id: s for s in segments}
    done: set[str] = set()
    out: list[Segment] = []

    def visit(segment: Segment, trail: set[str]) -> None:
        if segment.id in done or segment.id in trail:
            return
        for ref in sorted(references(segment.definition)):
            if ref in by_id:
                visit(by_id[ref], trail | {segment.id})
        done.add(segment.id)
        out.append(segment)

    for segment in sorted(segments, key=lambda s: s.id):
        visit(segment, set())
    return out


def dependents(segments: list[Segment], root: str) -> set[str]:
    """Segments that refer to `root`, directly or through others."""
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for s in segments:
            if s.id not in found and (references(s.definition) & (found | {root})):
                found.add(s.id)
                changed = True
    return found


def _chunks(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def matching(
    session: Session, account_id: str, segment: Segment, profile_ids: list[str] | None, now: dt.datetime
) -> set[str]:
    ctx = compiler.Context(session, account_id, now, full=profile_ids is None)
    predicate = compiler.compile_definition(ctx, SegmentDefinition.model_validate(segment.definition))
    stmt = select(Profile.id).where(Profile.account_id == account_id, predicate)
    if profile_ids is None:
        return set(session.execute(stmt).scalars())
    found: set[str] = set()
    for chunk in _chunks(profile_ids):
        found.update(session.execute(stmt.where(Profile.id.in_(chunk))).scalars())
    return found


def current(session: Session, account_id: str, segment_id: str, profile_ids: list[str] | None) -> set[str]:
    stmt = select(SegmentMember.profile_id).where(
        SegmentMember.account_id == account_id, SegmentMember.segment_id == segment_id
    )
    if profile_ids is None:
        return set(session.execute(stmt).scalars())
    found: set[str] = set()
    for chunk in _chunks(profile_ids):
        found.update(session.execute(stmt.where(SegmentMember.profile_id.in_(chunk))).scalars())
    return found


def apply(
    session: Session,
    account_id: str,
    segment: Segment,
    profile_ids: list[str] | None,
    reason: str,
    now: dt.datetime | None = None,
) -> set[str]:
    """Bring the stored membership in line with the definition; returns the profiles that changed."""
    now = now or utcnow()
    should = matching(session, account_id, segment, profile_ids, now)
    have = current(session, account_id, segment.id, profile_ids)
    entered, exited = sorted(should - have), sorted(have - should)
    if entered:
        session.execute(
            SegmentMember.__table__.insert(),  # type: ignore[attr-defined]
            [
                {"account_id": account_id, "segment_id": segment.id, "profile_id": p, "joined_group_at": now}
                for p in entered
            ],
        )
    for chunk in _chunks(exited):
        session.execute(
            delete(SegmentMember).where(
                SegmentMember.account_id == account_id,
                SegmentMember.segment_id == segment.id,
                SegmentMember.profile_id.in_(chunk),
            )
        )
    changes = [(p, True) for p in entered] + [(p, False) for p in exited]
    if changes:
        session.execute(
            SegmentChange.__table__.insert(),  # type: ignore[attr-defined]
            [
                {
                    "account_id": account_id,
                    "id": ulid(),
                    "segment_id": segment.id,
                    "profile_id": p,
                    "entered": entered_,
                    "at": now,
                    "reason": reason,
                }
                for p, entered_ in changes
            ],
        )
    return set(entered) | set(exited)


def active_segments(session: Session, account_id: str) -> list[Segment]:
    stmt = select(Segment).where(Segment.account_id == account_id)
    return [s for s in session.execute(stmt).scalars() if s.is_active]


def update_profiles(session: Session, account_id: str, profile_ids: list[str], reason: str) -> None:
    """Incremental update: every active segment, in dependency order, over these profiles."""
    if not profile_ids:
        return
    now = utcnow()
    for segment in ordered(active_segments(session, account_id)):
        apply(session, account_id, segment, profile_ids, reason, now)


def build(session: Session, account_id: str, segment_id: str, reason: str = "build") -> None:
    """Full build of one segment, then the segments that depend on it for the profiles that moved."""
    segments = active_segments(session, account_id)
    target = next((s for s in segments if s.id == segment_id), None)
    if target is None:
        return
    now = utcnow()
    moved = apply(session, account_id, target, None, reason, now)
    if moved:
        downstream = dependents(segments, segment_id)
        for segment in ordered([s for s in segments if s.id in downstream]):
            apply(session, account_id, segment, sorted(moved), "segment", now)
