"""One compiler: a segment definition becomes one SQL predicate over `profiles` (SQLAlchemy Core).

Full build runs it over every profile of the account; an incremental update runs the same
predicate restricted to the profiles a batch touched. Groups are ANDed, conditions within a
group ORed. Every condition compiles to a definite boolean (never NULL), so a negation means
"the positive condition does not hold", for profiles without the property too.

Semantics shared with the brute-force evaluator of the tests (tests/segments/brute.py):
- strings compare case-insensitively (ASCII), and only JSON strings match string filters;
  `regex` / `nregex` are case-sensitive searches;
- dates in custom properties compare by day (the first 10 characters of an ISO date string);
  the profile's own timestamps (created, updated, last_event_date) compare as instants, except
  for the calendar and anniversary operators, which read their UTC day;
- "is set" means present, not null and not the empty string.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Float,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)

from tidings.db import dialect
from tidings.events.tables import Event
from tidings.lists.tables import ListMember
from tidings.profiles.tables import Profile
from tidings.segments import definition as d
from tidings.segments.consent import consent_condition
from tidings.segments.funnel import funnel_condition
from tidings.segments.sql import (
    EU_COUNTRIES,
    US_COUNTRIES,
    Clause,
    Context,
    Unsupported,
    apply_filter,
    compare,
    definite,
    instant_bounds,
    instant_filter,
    json_value,
    metric_events,
    metric_value,
    profile_value,
)
from tidings.segments.tables import SegmentMember


def metric_condition(ctx: Context, c: d.ProfileMetricCondition, *, alone: bool = False) -> Clause:
    """The count or sum of the profile's events of a metric (0 without any), compared.

    Per profile, a correlated subquery: index probes for each profile evaluated, right for the
    few profiles of an incremental update, slow over a million. In a full build, a condition
    `alone` in its group (so ANDed at the top of the WHERE) reads the measured events in one
    grouped pass instead, which the planner turns into a semi-join (`id IN (profiles whose
    total passes)`, when a total of 0 fails the filter) or an anti-join (`NOT EXISTS (profiles
    whose total fails)`); its cost is that of the events measured. Both forms are definite
    (events.profile_id is never NULL) and select the same profiles (tests/segments/
    test_compiler_vs_brute.py checks both)."""
    if isinstance(c.timeframe_filter, d.RelativeAnniversaryDateFilter):
        raise Unsupported("Anniversary timeframes are not computed for metrics.", "/timeframe_filter")
    where = [*metric_events(ctx, c), *instant_bounds(ctx, Event.time, c.timeframe_filter)]
    value = metric_value(ctx, c.metric_id)
    aggregate = func.count() if c.measurement == "count" else func.sum(func.coalesce(value, 0.0))
    f = c.measurement_filter
    if alone and ctx.full:
        passes = compare(aggregate, f.operator, f.value)
        totals = select(Event.profile_id).where(*where).group_by(Event.profile_id)
        if not compare(0, f.operator, f.value):
            return Profile.id.in_(totals.having(passes))
        failing = totals.having(not_(passes)).subquery()
        return not_(select(literal(1)).where(failing.c.profile_id == Profile.id).exists())
    measured = func.coalesce(
        select(aggregate).where(*where, Event.profile_id == Profile.id).scalar_subquery(), 0
    )
    if f.operator == "not-equals":
        return not_(definite(measured == f.value))
    return definite(compare(measured, f.operator, f.value))


def group_condition(ctx: Context, c: d.ProfileGroupMembershipCondition) -> Clause:
    in_list: list[Any] = [
        ListMember.account_id == ctx.account_id,
        ListMember.profile_id == Profile.id,
        ListMember.list_id.in_(c.group_ids),
    ]
    in_segment: list[Any] = [
        SegmentMember.account_id == ctx.account_id,
        SegmentMember.profile_id == Profile.id,
        SegmentMember.segment_id.in_(c.group_ids),
    ]
    if c.timeframe_filter is not None:
        in_list.append(instant_filter(ctx, ListMember.joined_group_at, c.timeframe_filter))
        in_segment.append(instant_filter(ctx, SegmentMember.joined_group_at, c.timeframe_filter))
    member = or_(select(literal(1)).where(*in_list).exists(), select(literal(1)).where(*in_segment).exists())
    return definite(member) if c.is_member else not_(definite(member))


def region_condition(ctx: Context, c: d.ProfileRegionCondition) -> Clause:
    country = json_value(ctx.session, Profile.location, "country")
    names = EU_COUNTRIES if c.region == "european_union" else US_COUNTRIES
    inside = definite(and_(country.kind == "string", func.lower(country.text).in_(sorted(names))))
    return inside if c.in_region else not_(inside)


def predictive_condition(ctx: Context, c: d.ProfilePredictiveAnalyticsCondition) -> Clause:
    if c.dimension not in (
        "historic_clv",
        "historic_number_of_orders",
        "average_order_value",
        "average_days_between_orders",
    ):
        raise Unsupported(f"The predictive dimension {c.dimension!r} is not computed.", "/dimension")
    assert isinstance(c.filter, d.NumericFilter)
    metrics = ctx.placed_order_metrics()
    orders = [
        Event.account_id == ctx.account_id,
        Event.profile_id == Profile.id,
        Event.metric_id.in_(metrics),
    ]
    count = select(func.count()).where(*orders).scalar_subquery()
    total = func.coalesce(
        select(func.sum(func.coalesce(Event.value, 0.0))).where(*orders).scalar_subquery(), 0.0
    )
    measured: Any
    if c.dimension == "historic_number_of_orders":
        measured = count
    elif c.dimension == "historic_clv":
        measured = total
    elif c.dimension == "average_order_value":
        measured = case((count > 0, cast(total, Float) / count))
    else:
        epoch = dialect.epoch_seconds(ctx.session, Event.time)
        span = select(func.max(epoch) - func.min(epoch)).where(*orders).scalar_subquery()
        measured = case((count > 1, span / 86400.0 / (count - 1)))
    if c.filter.operator == "not-equals":
        return not_(definite(measured == c.filter.value))
    return definite(compare(measured, c.filter.operator, c.filter.value))


def condition(ctx: Context, c: Any, *, alone: bool = False) -> Clause:
    """One condition; `alone`: the only condition of its group (ANDed at the top of the WHERE)."""
    if isinstance(c, d.ProfilePropertyCondition):
        value = profile_value(ctx, c.property)
        return apply_filter(ctx, value, c.filter)
    if isinstance(c, d.ProfileMetricCondition):
        return metric_condition(ctx, c, alone=alone)
    if isinstance(c, d.ProfileGroupMembershipCondition):
        return group_condition(ctx, c)
    if isinstance(c, d.ProfileRegionCondition):
        return region_condition(ctx, c)
    if isinstance(c, d.ProfilePredictiveAnalyticsCondition):
        return predictive_condition(ctx, c)
    if isinstance(c, d.ProfileMarketingConsentCondition):
        return consent_condition(ctx, c)
    if isinstance(c, d.ProfileMetricFunnelCondition):
        return funnel_condition(ctx, c)
    raise Unsupported(f"The condition type {c.type!r} is not computed.", "/type")


def compile_definition(ctx: Context, definition: d.SegmentDefinition) -> Clause:
    groups = []
    for g, group in enumerate(definition.condition_groups):
        parts = []
        for i, cond in enumerate(group.conditions):
            try:
                parts.append(condition(ctx, cond, alone=len(group.conditions) == 1))
            except Unsupported as exc:
                raise Unsupported(str(exc), f"/condition_groups/{g}/conditions/{i}{exc.where}") from exc
        groups.append(or_(false(), *parts))
    return and_(true(), *groups)


def compile_condition(ctx: Context, cond: Any) -> Clause:
    return condition(ctx, cond)
