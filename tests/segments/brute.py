"""A plain-Python evaluator of segment definitions: the reference the compiled SQL is checked against.

It follows the semantics written at the top of tidings/segments/compiler.py, one rule at a time,
without SQL.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from tidings.inference import parse_date
from tidings.segments import definition as d

UNITS = {"hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1), "week": dt.timedelta(weeks=1)}
MISSING = object()


@dataclass
class P:
    id: str
    first_name: str | None
    created: dt.datetime
    properties: dict[str, Any]
    lists: dict[str, dt.datetime] = field(default_factory=dict)  # list id -> joined_group_at


@dataclass
class E:
    profile_id: str
    metric_id: str
    time: dt.datetime
    value: float | None
    properties: dict[str, Any]


def kind(v: Any) -> str | None:
    if v is MISSING:
        return None
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def element_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def is_set(v: Any) -> bool:
    return kind(v) not in (None, "null") and v != ""


def window(f: Any, now: dt.datetime) -> tuple[dt.datetime | None, dt.datetime | None]:
    if isinstance(f, d.StaticDateFilter):
        at = parse_date(f.date)
        return (at, None) if f.operator == "after" else (None, at)
    if isinstance(f, d.StaticDateRangeFilter):
        return parse_date(f.start), parse_date(f.end)
    if isinstance(f, d.RelativeDateFilter):
        span = UNITS[f.unit] * f.quantity
        if f.operator == "in-the-last":
            return now - span, now
        if f.operator == "in-the-next":
            return now, now + span
        return None, now - span
    low, high = sorted((f.start, f.end))
    return now - UNITS[f.unit] * high, now - UNITS[f.unit] * low


def instant_ok(t: dt.datetime | None, f: Any, now: dt.datetime) -> bool:
    if isinstance(f, d.AlltimeDateFilter):
        return True
    if t is None:
        return False
    start, end = window(f, now)
    strict = isinstance(f, d.StaticDateFilter)
    if start is not None and not (t > start if strict else t >= start):
        return False
    return not (end is not None and not (t < end if strict else t <= end))


def day_ok(v: Any, f: Any, now: dt.datetime) -> bool:
    if not (isinstance(v, str) and len(v) >= 10 and v[4] == "-" and v[7] == "-"):
        return False
    if isinstance(f, d.CalendarDateFilter):
        return v[5:7] == f"{f.value:02d}"
    if isinstance(f, d.AnniversaryDateFilter):
        return (
            v[5:10] == now.strftime("%m-%d") if f.operator == "anniversary" else v[5:7] == now.strftime("%m")
        )
    if isinstance(f, d.RelativeAnniversaryDateFilter):
        span = UNITS[f.unit] * f.quantity
        first, last = (
            ((now - span).date(), now.date())
            if f.operator == "anniversary-last"
            else (now.date(), (now + span).date())
        )
        day = first
        while day <= last:  # is the property's month and day one of the window's days?
            if v[5:10] == day.strftime("%m-%d"):
                return True
            leap_day_moved = day.month == 2 and day.day == 28 and not calendar.isleap(day.year)
            if leap_day_moved and v[5:10] == "02-29":
                return True
            day += dt.timedelta(days=1)
        return False
    start, end = window(f, now)
    strict = isinstance(f, d.StaticDateFilter)
    day = v[:10]
    if start is not None:
        bound = start.date().isoformat()
        if not (day > bound if strict else day >= bound):
            return False
    if end is not None:
        bound = end.date().isoformat()
        if not (day < bound if strict else day <= bound):
            return False
    return True


def compare(x: Any, op: str, y: Any) -> bool:
    if x is None:
        return False
    return {
        "equals": x == y,
        "not-equals": x != y,
        "greater-than": x > y,
        "greater-than-or-equal": x >= y,
        "less-than": x < y,
        "less-than-or-equal": x <= y,
    }[op]


def value_ok(v: Any, f: Any, now: dt.datetime, instant: bool = False) -> bool:
    if isinstance(f, d.ExistenceFilter):
        present = (v is not None) if instant else is_set(v)
        return present if f.operator == "is-set" else not present
    if instant and isinstance(
        f, d.CalendarDateFilter | d.AnniversaryDateFilter | d.RelativeAnniversaryDateFilter
    ):
        return v is not None and day_ok(v.astimezone(dt.UTC).date().isoformat(), f, now)
    if instant:
        return instant_ok(v, f, now)
    negated = f.operator.startswith("not-")
    if isinstance(f, d.StringInFilter):
        hit = isinstance(v, str) and v.lower() in [x.lower() for x in f.value]
        return hit if f.operator == "in" else not hit
    if isinstance(f, d.StringFilter) and f.operator in ("regex", "nregex"):
        hit = isinstance(v, str) and re.search(f.value or "", v) is not None
        return hit if f.operator == "regex" else not hit
    if isinstance(f, d.StringFilter):
        text, want = (v.lower() if isinstance(v, str) else None), (f.value or "").lower()
        base = f.operator.removeprefix("not-")
        hit = (
            text is not None
            and {
                "equals": text == want,
                "contains": want in text,
                "starts-with": text.startswith(want),
                "ends-with": text.endswith(want),
            }[base]
        )
        return not hit if negated else hit
    if isinstance(f, d.NumericFilter):
        number = float(v) if kind(v) == "number" else None
        if f.operator == "not-equals":
            return not (number is not None and number == f.value)
        return compare(number, f.operator, f.value)
    if isinstance(f, d.BooleanFilter):
        word = "true" if f.value else "false"
        return (isinstance(v, bool) and element_text(v) == word) or (isinstance(v, str) and v.lower() == word)
    if isinstance(f, d.ListContainsFilter | d.ListLengthFilter | d.ListSetFilter | d.ListSubstringFilter):
        items = [element_text(x) for x in v] if isinstance(v, list) else []
        if isinstance(f, d.ListLengthFilter):
            return isinstance(v, list) and compare(len(v), f.operator.replace("length-", ""), f.value)
        if isinstance(f, d.ListContainsFilter):
            hit = f.value is not None and str(f.value) in items
        elif isinstance(f, d.ListSetFilter):
            hits = [x in items for x in f.value]
            hit = any(hits) if f.operator.endswith("-any") else all(hits)
        else:
            hit = any((f.value or "").lower() in x.lower() for x in items)
        return not hit if negated else hit
    return day_ok(v, f, now)


def profile_field(p: P, name: str) -> tuple[Any, bool]:
    if name == "first_name":
        return (p.first_name if p.first_name is not None else MISSING), False
    if name == "created":
        return p.created, True
    key = name[len("properties['") : -2]
    return p.properties.get(key, MISSING), False


def condition_ok(c: Any, p: P, events: list[E], now: dt.datetime) -> bool:
    if isinstance(c, d.ProfilePropertyCondition):
        v, instant = profile_field(p, c.property)
        return value_ok(v, c.filter, now, instant)
    if isinstance(c, d.ProfileMetricCondition):
        chosen = [
            e
            for e in events
            if e.profile_id == p.id
            and e.metric_id == c.metric_id
            and instant_ok(e.time, c.timeframe_filter, now)
            and all(
                mf.filter is None or value_ok(e.properties.get(mf.property, MISSING), mf.filter, now)
                for mf in c.metric_filters or []
            )
        ]
        measured = len(chosen) if c.measurement == "count" else sum((e.value or 0.0) for e in chosen)
        f = c.measurement_filter
        return measured != f.value if f.operator == "not-equals" else compare(measured, f.operator, f.value)
    if isinstance(c, d.ProfileMetricFunnelCondition):
        return funnel_ok(c, p, events, now)
    if isinstance(c, d.ProfileGroupMembershipCondition):
        member = any(
            gid in p.lists
            and (c.timeframe_filter is None or instant_ok(p.lists[gid], c.timeframe_filter, now))
            for gid in c.group_ids
        )
        return member if c.is_member else not member
    raise AssertionError(c)


def funnel_ok(c: d.ProfileMetricFunnelCondition, p: P, events: list[E], now: dt.datetime) -> bool:
    """Every chain of events through the steps, tried in turn."""
    window = d.FUNNEL_WINDOWS[c.completion_window_seconds] if c.completion_window_seconds else None

    def of(step: d.FunnelStep) -> list[E]:
        return [
            e
            for e in events
            if e.profile_id == p.id
            and e.metric_id == step.metric_id
            and all(
                mf.filter is None or value_ok(e.properties.get(mf.property, MISSING), mf.filter, now)
                for mf in step.metric_filters or []
            )
        ]

    def rest(index: int, previous: E, first: E) -> bool:
        if index == len(c.steps):
            return True
        later = [
            e
            for e in of(c.steps[index])
            if e.time >= previous.time
            and e is not previous
            and (window is None or (e.time - first.time).total_seconds() <= window)
        ]
        if c.steps[index].metric_exists:
            return any(rest(index + 1, e, first) for e in later)
        return not later and rest(index + 1, previous, first)

    return any(rest(1, e, e) for e in of(c.steps[0]) if instant_ok(e.time, c.timeframe_filter, now))


def members(
    definition: d.SegmentDefinition, profiles: list[P], events: list[E], now: dt.datetime
) -> set[str]:
    return {
        p.id
        for p in profiles
        if all(
            any(condition_ok(c, p, events, now) for c in g.conditions) for g in definition.condition_groups
        )
    }
