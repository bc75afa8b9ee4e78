"""A flow's filters as SQL over its runs: the segment compiler for the segment conditions, and
the flow's own conditions (since the run started, not sent, not in the flow, a sample) here.

Every filter is evaluated for a batch of runs at once: one query selects the ids of the runs
whose profile passes (`passing`). Profile conditions compile to predicates over `profiles`
(correlated to the run's profile); "since starting this flow" compares the event's time to the
run's `started_at`, so it is correlated to the run itself. Trigger filters (on the triggering
event's top-level properties) compile to predicates over `events` (`event_clause`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, false, func, literal, not_, or_, select, true
from sqlalchemy.orm import Session, aliased

from tidings.db.chunks import chunked
from tidings.db.dialect import in_values
from tidings.delivery.tables import MessageSend
from tidings.events.tables import Event
from tidings.flows import conditions as fc
from tidings.flows.tables import FlowRun
from tidings.profiles.tables import Profile
from tidings.segments import compiler
from tidings.segments.sql import Clause, Context, apply_filter, compare, definite, json_value, metric_events

CHUNK = 5000
SENT = ("sent", "unknown", "failed")  # an attempted delivery
CHANNEL_OF = {
    "profile-not-sent-email": "email",
    "profile-not-sent-sms": "sms",
    "profile-not-sent-push": "push",
}


def sampled(run_id: str, percentage: int, salt: str) -> bool:
    """A deterministic draw for `profile-sample` and A/B tests: the same run, the same answer."""
    digest = hashlib.sha256(f"{salt}:{run_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percentage


def _since(ctx: Context, f: Any) -> dt.datetime | None:
    if isinstance(f, fc.InTheLastFilter):
        hours = {"hour": 1, "day": 24, "week": 168}[f.unit] * f.quantity
        return ctx.now - dt.timedelta(hours=hours)
    return None  # alltime


def _since_flow_start(ctx: Context, c: fc.FlowProfileMetricCondition) -> Clause:
    where = [*metric_events(ctx, c), Event.time >= FlowRun.started_at, Event.profile_id == Profile.id]
    aggregate = func.count() if c.measurement == "count" else func.sum(func.coalesce(Event.value, 0.0))
    measured = func.coalesce(select(aggregate).where(*where).scalar_subquery(), 0)
    f = c.measurement_filter
    if f.operator == "not-equals":
        return not_(definite(measured == f.value))
    return definite(compare(measured, f.operator, f.value))


def condition(ctx: Context, c: Any, runs: Sequence[str], flow_id: str) -> Clause:
    if isinstance(c, fc.FlowProfileMetricCondition) and isinstance(
        c.timeframe_filter, fc.SinceFlowStartFilter
    ):
        return _since_flow_start(ctx, c)
    if isinstance(c, fc.ProfileSampleCondition):
        chosen = [r for r in runs if sampled(r, c.percentage, "sample")]
        return FlowRun.id.in_(chosen) if chosen else false()
    if isinstance(
        c, fc.ProfileNotSentEmailCondition | fc.ProfileNotSentSmsCondition | fc.ProfileNotSentPushCondition
    ):
        where = [
            MessageSend.account_id == ctx.account_id,
            MessageSend.profile_id == Profile.id,
            MessageSend.channel == CHANNEL_OF[c.type],
            MessageSend.status.in_(SENT),
        ]
        since = _since(ctx, c.timeframe_filter)
        if since is not None:
            where.append(MessageSend.sending_at >= since)
        return not_(select(literal(1)).where(*where).exists())
    if isinstance(c, fc.ProfileNotInFlowCondition):
        other = FlowRun.__table__.alias("other_run")
        where = [
            other.c.account_id == ctx.account_id,
            other.c.flow_id == flow_id,
            other.c.profile_id == Profile.id,
            other.c.id != FlowRun.id,
            other.c.visit > 0,
        ]
        since = _since(ctx, c.timeframe_filter)
        if since is not None:
            where.append(other.c.started_at >= since)
        return not_(select(literal(1)).where(*where).exists())
    if isinstance(
        c, fc.MetricPropertyCondition | fc.PriceDropPropertyCondition | fc.LowInventoryPropertyCondition
    ):
        return event_condition(ctx, c)
    return compiler.compile_condition(ctx, c)


def filter_clause(ctx: Context, profile_filter: Any, runs: Sequence[str], flow_id: str) -> Clause:
    """Groups ANDed, conditions within a group ORed (the segment rule)."""
    groups = [
        or_(false(), *[condition(ctx, c, runs, flow_id) for c in group.conditions])
        for group in profile_filter.condition_groups
    ]
    return and_(true(), *groups)


def _runs_query(ctx: Context, clause: Clause, chunk: Sequence[str]) -> Any:
    return (
        select(FlowRun.id)
        .select_from(FlowRun)
        .join(Profile, and_(Profile.account_id == FlowRun.account_id, Profile.id == FlowRun.profile_id))
        .where(FlowRun.account_id == ctx.account_id, in_values(ctx.session, FlowRun.id, list(chunk)), clause)
    )


def passing(
    session: Session,
    account_id: str,
    flow_id: str,
    run_ids: Sequence[str],
    profile_filter: Any,
    now: dt.datetime,
) -> set[str]:
    """The runs (of one flow) whose profile, and triggering event, pass the filter; one query per
    500 runs. A filter of None passes every run whose profile exists."""
    ctx = Context(session, account_id, now)
    found: set[str] = set()
    for chunk in chunked(list(run_ids), CHUNK):
        clause = true() if profile_filter is None else filter_clause(ctx, profile_filter, chunk, flow_id)
        found.update(session.execute(_runs_query(ctx, clause, chunk)).scalars())
    return found


# ------------------------------------------------------------------ the triggering event


def event_condition(ctx: Context, c: Any) -> Clause:
    """A filter on a top-level property of the run's triggering event (false without one)."""
    trigger = aliased(Event, name="trigger_event")
    value = json_value(ctx.session, trigger.properties, c.field)
    return (
        select(literal(1))
        .where(
            trigger.account_id == ctx.account_id,
            trigger.id == FlowRun.event_id,
            apply_filter(ctx, value, c.filter),
        )
        .exists()
    )


def event_clause(ctx: Context, trigger_filter: Any) -> Clause:
    """A trigger filter over `events` itself (entering: the event is the row selected)."""
    if trigger_filter is None:
        return true()
    groups = [
        or_(
            false(),
            *[
                definite(apply_filter(ctx, json_value(ctx.session, Event.properties, c.field), c.filter))
                for c in group.conditions
            ],
        )
        for group in trigger_filter.condition_groups
    ]
    return and_(true(), *groups)
