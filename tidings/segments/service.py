"""Segments: create, update, delete; the definition checked against the spec and the account."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.ids import short_id
from tidings.events import custom_metrics
from tidings.events.tables import Metric
from tidings.jobs.gather import gather, transaction_scoped
from tidings.jobs.queue import enqueue
from tidings.jsonapi.errors import APIError, Conflict, ErrorList, InvalidInput, NotFound
from tidings.lists.tables import List
from tidings.segments import compiler, membership, sql
from tidings.segments.definition import CONDITION_TYPES, MAX_CONDITIONS, SegmentDefinition
from tidings.segments.tables import Segment, SegmentChange, SegmentClock, SegmentMember
from tidings.tags import service as tags

DEFINITION = "/data/attributes/definition"
BUILD_JOB = "segments.build"
UPDATE_JOB = "segments.update"
TICK_JOB = "segments.tick"


def not_found(segment_id: str) -> NotFound:
    return NotFound(f"A segment with id {segment_id} does not exist.")


def get_segment(session: Session, account_id: str, segment_id: str) -> Segment:
    stmt = select(Segment).where(Segment.account_id == account_id, Segment.id == segment_id)
    found = session.execute(stmt.execution_options(populate_existing=True)).scalars().first()
    if found is None:
        raise not_found(segment_id)
    return found


def _pointer(loc: tuple[Any, ...]) -> str:
    # Discriminated unions put their tag in the location; the pointer is into the document.
    parts = [
        str(p) for p in loc if not (isinstance(p, str) and (p in CONDITION_TYPES or p.startswith("filter:")))
    ]
    return "/".join([DEFINITION, *parts])


def parse_definition(raw: Any) -> SegmentDefinition:
    try:
        return SegmentDefinition.model_validate(raw)
    except ValidationError as exc:
        errors: list[APIError] = [
            InvalidInput(f"Invalid segment definition: {e['msg']}", pointer=_pointer(tuple(e["loc"])))
            for e in exc.errors()
        ]
        raise ErrorList(errors[:20]) from exc


def check_definition(
    session: Session, account_id: str, segment_id: str | None, raw: Any
) -> SegmentDefinition:
    """The spec's schemas, then the account: metrics, lists and segments exist, no cycles, at most
    100 conditions, and every condition is one the engine computes."""
    definition = parse_definition(raw)
    conditions = definition.conditions()
    if len(conditions) > MAX_CONDITIONS:
        raise InvalidInput(
            f"A segment has at most {MAX_CONDITIONS} conditions; this one has {len(conditions)}.",
            pointer=f"{DEFINITION}/condition_groups",
        )
    metric_ids = set(session.execute(select(Metric.id).where(Metric.account_id == account_id)).scalars())
    named = [c.metric_id for _g, _i, c in conditions if c.type == "profile-metric"]
    named += [s.metric_id for _g, _i, c in conditions if c.type == "profile-metric-funnel" for s in c.steps]
    metric_ids |= custom_metrics.existing_ids(session, account_id, named)  # usable wherever a metric is
    list_ids = set(session.execute(select(List.id).where(List.account_id == account_id)).scalars())
    segments = list(session.execute(select(Segment).where(Segment.account_id == account_id)).scalars())
    segment_ids = {s.id for s in segments}
    errors: list[APIError] = []
    for g, i, cond in conditions:
        where = f"{DEFINITION}/condition_groups/{g}/conditions/{i}"
        if cond.type == "profile-metric" and cond.metric_id not in metric_ids:
            errors.append(
                InvalidInput(f"Metric {cond.metric_id} does not exist.", pointer=f"{where}/metric_id")
            )
        if cond.type == "profile-metric-funnel":
            for k, step in enumerate(cond.steps):
                if step.metric_id not in metric_ids:
                    errors.append(
                        InvalidInput(
                            f"Metric {step.metric_id} does not exist.", pointer=f"{where}/steps/{k}/metric_id"
                        )
                    )
        if cond.type == "profile-group-membership":
            for k, gid in enumerate(cond.group_ids):
                if gid == segment_id:
                    errors.append(
                        InvalidInput("A segment cannot refer to itself.", pointer=f"{where}/group_ids/{k}")
                    )
                elif gid not in list_ids and gid not in segment_ids:
                    errors.append(
                        InvalidInput(
                            f"No list or segment has the id {gid}.", pointer=f"{where}/group_ids/{k}"
                        )
                    )
    if errors:
        raise ErrorList(errors)
    if segment_id is not None:
        others = [s for s in segments if s.id != segment_id]
        raw_refs = membership.references(definition.model_dump(mode="json"))
        # A cycle: a segment this one refers to depends (transitively) on this one.
        if raw_refs & membership.dependents(others, segment_id):
            raise InvalidInput(
                "The definition makes a cycle between segments.", pointer=f"{DEFINITION}/condition_groups"
            )
    try:
        compiler.compile_definition(sql.Context(session, account_id, utcnow()), definition)
    except sql.Unsupported as exc:
        raise InvalidInput(str(exc), pointer=f"{DEFINITION}{exc.where}") from exc
    return definition


def _schedule_build(session: Session, segment: Segment) -> None:
    segment.is_processing = True
    enqueue(session, BUILD_JOB, {"segment_id": segment.id}, account_id=segment.account_id)


def create_segment(session: Session, account_id: str, attributes: dict[str, Any]) -> Segment:
    check_definition(session, account_id, None, attributes["definition"])
    now = utcnow()
    segment = Segment(
        account_id=account_id,
        id=short_id(),
        name=attributes["name"],
        definition=attributes["definition"],
        is_active=True,
        is_starred=bool(attributes.get("is_starred") or False),
        is_processing=True,
        created=now,
        updated=now,
    )
    session.add(segment)
    _schedule_build(session, segment)
    session.flush()
    return segment


def update_segment(
    session: Session, account_id: str, segment_id: str, body_id: str, attributes: dict[str, Any]
) -> Segment:
    if body_id != segment_id:
        raise Conflict(
            f"The id in the body ({body_id}) does not match the URL ({segment_id}).", pointer="/data/id"
        )
    segment = get_segment(session, account_id, segment_id)
    rebuild = False
    if attributes.get("name") is not None:
        segment.name = attributes["name"]
    if attributes.get("definition") is not None:
        check_definition(session, account_id, segment_id, attributes["definition"])
        segment.definition = attributes["definition"]
        rebuild = True
    if attributes.get("is_starred") is not None:
        segment.is_starred = attributes["is_starred"]
    if attributes.get("is_active") is not None and attributes["is_active"] != segment.is_active:
        segment.is_active = attributes["is_active"]
        rebuild = rebuild or segment.is_active
    segment.updated = utcnow()
    if rebuild and segment.is_active:
        _schedule_build(session, segment)
    session.flush()
    return segment


def delete_segment(session: Session, account_id: str, segment_id: str) -> None:
    segment = get_segment(session, account_id, segment_id)
    others = list(
        session.execute(
            select(Segment).where(Segment.account_id == account_id, Segment.id != segment_id)
        ).scalars()
    )
    users = [s.id for s in others if segment_id in membership.references(s.definition)]
    if users:
        raise Conflict(f"Segments {', '.join(sorted(users))} refer to this segment.", pointer="/data/id")
    # Nothing refers to it (checked above), so no other segment's membership changes.
    for table in (SegmentMember, SegmentChange, SegmentClock):
        session.execute(delete(table).where(table.account_id == account_id, table.segment_id == segment_id))
    tags.forget_resources(session, account_id, "segment", [segment_id])
    session.delete(segment)
    session.flush()


# ------------------------------------------------------------------ incremental updates

_HAS_SEGMENTS = "segments.has_segments"


def enqueue_update(session: Session, account_id: str, profile_ids: list[str], reason: str) -> None:
    """Ask for the incremental update of these profiles in every active segment.

    The requests of one transaction are gathered and enqueued as one job per account and
    reason when it commits (still inside it): a request that writes a profile, its consent
    and its events, or a bulk job that touches a thousand profiles one by one, makes one job.
    A profile asked for twice keeps its first reason."""
    if profile_ids:
        gather(session, UPDATE_JOB, account_id, profile_ids, reason)


def has_segments(session: Session, account_id: str) -> bool:
    """Whether the account has any segment (remembered for the transaction)."""
    known: dict[str, bool] = transaction_scoped(session, _HAS_SEGMENTS)
    if account_id not in known:
        stmt = select(Segment.id).where(Segment.account_id == account_id).limit(1)
        known[account_id] = session.execute(stmt).first() is not None
    return known[account_id]
