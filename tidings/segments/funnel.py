"""profile-metric-funnel conditions: ordered steps of events, compiled to nested EXISTS.

Each later step is correlated with the previous step's event (its profile and time), so the
query reads a profile's events step by step; the brute-force reference is
tests/segments/brute.py `funnel_ok`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, literal, not_, select, true
from sqlalchemy.orm import aliased

from tidings.db import dialect
from tidings.events.tables import Event
from tidings.profiles.tables import Profile
from tidings.segments import definition as d
from tidings.segments.sql import Clause, Context, Unsupported, definite, instant_bounds, metric_events


def funnel_condition(ctx: Context, c: d.ProfileMetricFunnelCondition) -> Clause:
    """Steps in order: a first event of step 0 inside the timeframe, then for each later step an
    event at or after the previous step's event (a different event), or, for a step with
    `metric_exists: false`, no such event; every step within the completion window counted from
    the first event (no limit without one)."""
    if not c.steps[0].metric_exists:
        raise Unsupported("A funnel starts with an event that happened.", "/steps/0/metric_exists")
    window = d.FUNNEL_WINDOWS[c.completion_window_seconds] if c.completion_window_seconds else None
    first = aliased(Event)

    def events_of(index: int, alias: Any) -> list[Any]:
        try:
            return metric_events(ctx, c.steps[index], alias)
        except Unsupported as exc:
            raise Unsupported(str(exc), f"/steps/{index}{exc.where}") from exc

    def rest(index: int, previous: Any) -> Clause:
        if index == len(c.steps):
            return true()
        step = aliased(Event)
        where = [
            *events_of(index, step),
            step.profile_id == previous.profile_id,  # the previous step's table is the one correlated
            step.time >= previous.time,
            step.id != previous.id,
        ]
        if window is not None:
            epoch = dialect.epoch_seconds
            where.append(epoch(ctx.session, step.time) <= epoch(ctx.session, first.time) + window)
        if c.steps[index].metric_exists:
            return select(literal(1)).where(*where, rest(index + 1, step)).exists()
        return and_(not_(select(literal(1)).where(*where).exists()), rest(index + 1, previous))

    started = [
        *events_of(0, first),
        first.profile_id == Profile.id,
        *instant_bounds(ctx, first.time, c.timeframe_filter),
    ]
    return definite(select(literal(1)).where(*started, rest(1, first)).exists())
