"""Entering flows: a run per profile and trigger, written in the trigger's own transaction.

- Metric flows: the events hook hands over each batch of events as it is written; the events
  of metrics that live flows are triggered by, not backfilled, that pass the trigger filter (in
  SQL, on the stored event) start one run each (`trigger_key` = the event id: once a profile
  has been processed for an event it cannot be queued again), subject to `reentry_criteria`.
- List flows: the lists hook, for profiles that are members when it fires (a removal fires it
  too); `trigger_key` `L`: once per profile, ever, as Klaviyo's list flows.
- Segment flows: the segment's change log (`segment_changes`), read from a cursor set when the
  flow goes live, by `scan_segments` (the advance job calls it); `trigger_key` `L` as well.

A run starts `active`, due now, at the entry action, with `visit` 0: the executor's first step
checks the flow filter (one query per batch) and either traces the entry or exits the run
("Fails Flow Filters"). Entering writes rows only; it never evaluates profile conditions in the
writer's transaction of the events processor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, literal, not_, or_, select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.dialect import bulk_insert_ignore
from tidings.db.ids import ulid
from tidings.events import custom_metrics
from tidings.events.hooks import WrittenEvent
from tidings.events.tables import Event
from tidings.flows.conditions import MetricTriggerFilter
from tidings.flows.filters import event_clause
from tidings.flows.tables import Flow, FlowEntryCursor, FlowRun
from tidings.jobs.queue import enqueue
from tidings.lists.tables import ListMember
from tidings.segments.sql import Context
from tidings.segments.tables import SegmentChange

ADVANCE_JOB = "flows.advance"
ONCE = "L"  # the trigger key of list and segment flows: once per profile
RUNNING = ("active", "waiting")
# A segment flow re-reads this much of the change log behind its cursor each scan: a change
# written by a transaction that committed late (its ids are older than the cursor) still
# enters, and the run's unique key makes the re-reading harmless.
SEGMENT_REREAD = dt.timedelta(minutes=2)
_COLUMNS = ("account_id", "flow_id", "profile_id", "trigger_key")
CUSTOM_ID_LENGTH = 32  # a custom metric's id (tidings.events.custom_metrics.CUSTOM_ID); a metric's is 6


def live_flows(
    session: Session, account_id: str, kind: str, refs: Sequence[str], *, custom_metrics: bool = False
) -> list[Flow]:
    """The live flows of these triggers; with `custom_metrics`, also every live flow triggered
    by a custom metric (its members are only known once it is expanded)."""
    if not refs:
        return []
    named = Flow.trigger_ref.in_(sorted(set(refs)))
    stmt = select(Flow).where(
        Flow.account_id == account_id,
        Flow.trigger_kind == kind,
        or_(named, func.length(Flow.trigger_ref) == CUSTOM_ID_LENGTH) if custom_metrics else named,
        Flow.status == "live",
    )
    return list(session.execute(stmt).scalars())


def _start(
    session: Session,
    account_id: str,
    flow: Flow,
    entries: Sequence[tuple[str, str, str | None]],
    now: dt.datetime,
) -> int:
    """Runs for (profile, trigger key, event id) entries; an existing key is left alone."""
    entry = flow.definition.get("entry_action_id")
    rows = [
        {
            "account_id": account_id,
            "id": ulid(),
            "flow_id": flow.id,
            "profile_id": profile_id,
            "trigger_kind": str(flow.trigger_kind),
            "trigger_key": key,
            "event_id": event_id,
            "status": "active",
            "action_id": entry,
            "due_at": now,
            "visit": 0,
            "started_at": now,
            "updated_at": now,
            "exit_reason": None,
        }
        for profile_id, key, event_id in entries
    ]
    made = bulk_insert_ignore(session, FlowRun.__table__, rows, index_elements=_COLUMNS, returning="id")  # type: ignore[arg-type]
    if made:
        wake(session, now)
    return len(made)


def wake(session: Session, now: dt.datetime) -> None:
    """Ask for an advance now (one job a second, however many entries ask)."""
    enqueue(session, ADVANCE_JOB, {}, dedup_key=f"advance:{int(now.timestamp())}", max_attempts=3)


def _reentry_blocked(flow: Flow, now: dt.datetime) -> Any:
    """What excludes a profile that may not enter again yet (None: nothing does)."""
    criteria = flow.definition.get("reentry_criteria") or {}
    unit, duration = criteria.get("unit"), int(criteria.get("duration") or 0)
    if not unit or (unit == "alltime" and duration == 0) or duration == 0:
        return None
    other = FlowRun.__table__.alias("earlier")
    where = [
        other.c.account_id == flow.account_id,
        other.c.flow_id == flow.id,
        other.c.profile_id == Event.profile_id,
        (other.c.visit > 0) | other.c.status.in_(RUNNING),
    ]
    if unit != "alltime":
        hours = {"hour": 1, "day": 24, "week": 168}[unit] * duration
        where.append(other.c.started_at > now - dt.timedelta(hours=hours))
    return select(literal(1)).where(*where).exists()


def events_written(session: Session, account_id: str, written: list[WrittenEvent]) -> None:
    """The events hook: start the metric flows these events trigger."""
    candidates = [e for e in written if not e.backfill]
    if not candidates:
        return
    flows = live_flows(session, account_id, "metric", [e.metric_id for e in candidates], custom_metrics=True)
    if not flows:
        return
    now = utcnow()
    ctx = Context(session, account_id, now)
    for flow in flows:
        members = custom_metrics.expand(session, account_id, flow.trigger_ref or "")
        metric_ids = set(members.metric_ids) if members is not None else {flow.trigger_ref}
        ids = [e.id for e in candidates if e.metric_id in metric_ids]
        if not ids:
            continue
        trigger = (flow.definition.get("triggers") or [{}])[0]
        raw_filter = trigger.get("trigger_filter")
        parsed = MetricTriggerFilter.model_validate(raw_filter) if raw_filter else None
        stmt = select(Event.profile_id, Event.id).where(
            Event.account_id == account_id,
            Event.id.in_(ids),
            Event.backfill.is_(False),
            event_clause(ctx, parsed),
        )
        if members is not None:  # a custom metric: an event of a member group, passing its filters
            stmt = stmt.where(custom_metrics.member_clause(session, account_id, members, Event))
        blocked = _reentry_blocked(flow, now)
        if blocked is not None:
            stmt = stmt.where(not_(blocked))
        entries = [(profile_id, event_id, event_id) for profile_id, event_id in session.execute(stmt)]
        if blocked is not None:  # at most one new run per profile from one batch
            entries = list({p: (p, k, e) for p, k, e in reversed(entries)}.values())
        _start(session, account_id, flow, entries, now)


def list_membership_changed(session: Session, account_id: str, list_id: str, profile_ids: list[str]) -> None:
    """The lists hook: start the list flows for the profiles that are members now."""
    flows = live_flows(session, account_id, "list", [list_id])
    if not flows or not profile_ids:
        return
    stmt = select(ListMember.profile_id).where(
        ListMember.account_id == account_id,
        ListMember.list_id == list_id,
        ListMember.profile_id.in_(sorted(set(profile_ids))),
    )
    members = sorted(set(session.execute(stmt).scalars()))
    now = utcnow()
    for flow in flows:
        _start(session, account_id, flow, [(p, ONCE, None) for p in members], now)


# ------------------------------------------------------------------------------ segments


def open_cursor(session: Session, flow: Flow, now: dt.datetime) -> None:
    """A segment flow going live reads the change log from now on (not who is in it already)."""
    if flow.trigger_kind != "segment":
        return
    if session.get(FlowEntryCursor, (flow.account_id, flow.id)) is not None:
        return
    position = ulid()
    session.add(
        FlowEntryCursor(account_id=flow.account_id, flow_id=flow.id, position=position, opened=position)
    )


def _ms(at: dt.datetime) -> int:
    return int(at.timestamp() * 1000)


def _at(position: str) -> dt.datetime:
    """The time a ULID was made at (its first 10 characters: milliseconds, Crockford base 32)."""
    digits = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    ms = 0
    for char in position[:10]:
        ms = ms * 32 + digits.index(char)
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def scan_segments(session: Session, now: dt.datetime | None = None, limit: int = 5000) -> int:
    """Start the live segment flows for the profiles that entered their segments since each
    flow's cursor; returns how many runs were made."""
    now = now or utcnow()
    flows = list(
        session.execute(select(Flow).where(Flow.trigger_kind == "segment", Flow.status == "live")).scalars()
    )
    made = 0
    for flow in flows:
        cursor = session.get(FlowEntryCursor, (flow.account_id, flow.id))
        if cursor is None:
            open_cursor(session, flow, now)
            continue
        floor = max(cursor.opened, ulid(_ms(_at(cursor.position) - SEGMENT_REREAD))[:10] + "0" * 16)
        base = select(SegmentChange.profile_id, SegmentChange.id).where(
            SegmentChange.account_id == flow.account_id,
            SegmentChange.segment_id == flow.trigger_ref,
            SegmentChange.entered.is_(True),
        )
        rows = list(
            session.execute(
                base.where(SegmentChange.id > cursor.position).order_by(SegmentChange.id).limit(limit)
            )
        )
        late = list(
            session.execute(
                base.where(SegmentChange.id > floor, SegmentChange.id <= cursor.position).limit(limit)
            )
        )
        if late:
            made += _start(session, flow.account_id, flow, [(p, ONCE, None) for p, _ in late], now)
        if not rows:
            continue
        made += _start(session, flow.account_id, flow, [(p, ONCE, None) for p, _ in rows], now)
        newest = rows[-1][1]
        if newest > cursor.position:
            cursor.position = newest
    return made
