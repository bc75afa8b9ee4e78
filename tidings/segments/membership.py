"""Segment membership: evaluate the compiled predicate, store the difference, keep the history.

Every evaluation (a build, an incremental update after writes, the clock's tick) goes through
`apply`: the compiled query over the profiles concerned; the entries and exits stored and kept
in `segment_changes`, the change log (reports, explanations and flow triggers read it; it is
listed under `/api/x-tidings/segments/{id}/changes`); and the profiles' next-change instants
refreshed (tidings/segments/instants.py), which the `segments.tick` job waits for.

An entry or exit is not an event: Klaviyo's events API shows what integrations sent and
Klaviyo's own metrics, and it has no "Entered Segment" metric.

`run` evaluates segments in dependency order, so one pass over the touched profiles carries a
change through every segment that depends on it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.chunks import chunked
from tidings.db.dialect import bulk_insert
from tidings.db.ids import ulid
from tidings.profiles.tables import Profile
from tidings.segments import clock, compiler, instants, sql
from tidings.segments.definition import SegmentDefinition
from tidings.segments.tables import Segment, SegmentChange, SegmentMember

CHUNK = 500
# Members and change rows written per statement (one array per column on PostgreSQL).
WRITE_CHUNK = 20_000
TICK_BATCH = 500
TICK_LIMIT = 2000  # rows per tick job, so that one job stays a short transaction


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


def matching(
    session: Session, account_id: str, predicate: sql.Clause, profile_ids: Sequence[str] | None
) -> set[str]:
    stmt = select(Profile.id).where(Profile.account_id == account_id, predicate)
    if profile_ids is None:
        return set(session.execute(stmt).scalars())
    found: set[str] = set()
    for chunk in chunked(profile_ids, CHUNK):
        found.update(session.execute(stmt.where(Profile.id.in_(chunk))).scalars())
    return found


def current(
    session: Session, account_id: str, segment_id: str, profile_ids: Sequence[str] | None
) -> set[str]:
    stmt = select(SegmentMember.profile_id).where(
        SegmentMember.account_id == account_id, SegmentMember.segment_id == segment_id
    )
    if profile_ids is None:
        return set(session.execute(stmt).scalars())
    found: set[str] = set()
    for chunk in chunked(profile_ids, CHUNK):
        found.update(session.execute(stmt.where(SegmentMember.profile_id.in_(chunk))).scalars())
    return found


def apply(
    session: Session,
    account_id: str,
    segment: Segment,
    profile_ids: Sequence[str] | None,
    reason: str,
    now: dt.datetime | None = None,
) -> set[str]:
    """Bring the stored membership of these profiles (None: all) in line with the definition,
    record the changes, refresh the profiles' next-change instants; returns the profiles that moved."""
    now = now or utcnow()
    ctx = sql.Context(session, account_id, now, full=profile_ids is None)
    definition = SegmentDefinition.model_validate(segment.definition)
    should = matching(session, account_id, compiler.compile_definition(ctx, definition), profile_ids)
    have = current(session, account_id, segment.id, profile_ids)
    entered, exited = sorted(should - have), sorted(have - should)
    for start in range(0, len(entered), WRITE_CHUNK):
        bulk_insert(
            session,
            SegmentMember.__table__,  # type: ignore[arg-type]
            [
                {"account_id": account_id, "segment_id": segment.id, "profile_id": p, "joined_group_at": now}
                for p in entered[start : start + WRITE_CHUNK]
            ],
        )
    for chunk in chunked(exited, CHUNK):
        session.execute(
            delete(SegmentMember).where(
                SegmentMember.account_id == account_id,
                SegmentMember.segment_id == segment.id,
                SegmentMember.profile_id.in_(chunk),
            )
        )
    record_changes(session, account_id, segment, entered, exited, reason, now)
    parts = instants.parts(ctx, definition)
    if parts or profile_ids is None:  # a build also clears what an older definition left
        due = instants.next_changes(session, parts, profile_ids, now)
        clock.store(session, account_id, segment.id, profile_ids, due, now)
    return set(entered) | set(exited)


def record_changes(
    session: Session,
    account_id: str,
    segment: Segment,
    entered: Sequence[str],
    exited: Sequence[str],
    reason: str,
    now: dt.datetime,
) -> None:
    """Each entry and exit: a `segment_changes` row (ids in time order: the change log's cursor)."""
    changes = [(ulid(), p, True) for p in entered] + [(ulid(), p, False) for p in exited]
    if not changes:
        return
    for start in range(0, len(changes), WRITE_CHUNK):
        bulk_insert(
            session,
            SegmentChange.__table__,  # type: ignore[arg-type]
            [
                {
                    "account_id": account_id,
                    "id": change_id,
                    "segment_id": segment.id,
                    "profile_id": p,
                    "entered": went_in,
                    "at": now,
                    "reason": reason,
                }
                for change_id, p, went_in in changes[start : start + WRITE_CHUNK]
            ],
        )


def active_segments(session: Session, account_id: str) -> list[Segment]:
    stmt = select(Segment).where(Segment.account_id == account_id)
    return [s for s in session.execute(stmt).scalars() if s.is_active]


Targets = dict[str, Sequence[str] | None]  # segment id -> profiles to evaluate (None: all)


def evaluate(
    session: Session,
    account_id: str,
    segments: list[Segment],
    targets: Targets,
    reason: str,
    now: dt.datetime,
) -> set[str]:
    """Evaluate the targeted segments, in dependency order, and the segments that refer to them
    for the profiles that moved there; returns every profile that moved somewhere."""
    moved: dict[str, set[str]] = {}
    everyone: set[str] = set()
    for segment in ordered(segments):
        upstream: set[str] = set()
        for ref in references(segment.definition):
            upstream |= moved.get(ref, set())
        profile_ids: Sequence[str] | None
        if segment.id in targets:
            wanted = targets[segment.id]
            profile_ids = None if wanted is None else sorted(set(wanted) | upstream)
            why = reason
        else:
            profile_ids, why = sorted(upstream), "segment"
        if profile_ids is not None and not profile_ids:
            continue
        moved[segment.id] = apply(session, account_id, segment, profile_ids, why, now)
        everyone |= moved[segment.id]
    return everyone


def run(session: Session, account_id: str, targets: Targets, reason: str, now: dt.datetime) -> None:
    segments = active_segments(session, account_id)
    targets = {sid: ids for sid, ids in targets.items() if any(s.id == sid for s in segments)}
    if targets:
        evaluate(session, account_id, segments, targets, reason, now)


def update_profiles(session: Session, account_id: str, profile_ids: list[str], reason: str) -> None:
    """Incremental update: every active segment, in dependency order, over these profiles."""
    if not profile_ids:
        return
    segments = active_segments(session, account_id)
    run(session, account_id, {s.id: profile_ids for s in segments}, reason, utcnow())


def build(session: Session, account_id: str, segment_id: str, reason: str = "build") -> None:
    """Full build of one segment, then the segments that depend on it for the profiles that moved."""
    run(session, account_id, {segment_id: None}, reason, utcnow())


def tick(session: Session, now: dt.datetime, *, limit: int = TICK_LIMIT) -> bool:
    """Re-evaluate the (segment, profile) pairs whose next-change instant has come, with the same
    compiled query restricted to those profiles; their instants are refreshed by the evaluation.
    Returns True when more rows are due than this call took."""
    done = 0
    while done < limit:
        due = clock.claim_due(session, now, min(TICK_BATCH, limit - done))
        if not due:
            return False
        done += len(due)
        by_account: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for account_id, segment_id, profile_id in due:
            by_account[account_id][segment_id].append(profile_id)
        for account_id, targets in by_account.items():
            active = {s.id for s in active_segments(session, account_id)}
            clock.drop_segments(session, account_id, [sid for sid in targets if sid not in active])
            wanted: Targets = {sid: ids for sid, ids in targets.items() if sid in active}
            run(session, account_id, wanted, "time", now)
    return clock.any_due(session, now)
