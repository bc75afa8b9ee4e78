"""The segment compiler's vocabulary: how a profile's values, filters, time windows and a
metric's events read in SQL. `compiler.py` assembles conditions from these; `consent.py` and
`funnel.py` compile their condition types with them. Semantics: see compiler.py.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from tidings.db import dialect
from tidings.events import custom_metrics
from tidings.events.metrics import PLACED_ORDER
from tidings.events.tables import Event, Metric
from tidings.profiles.tables import Profile
from tidings.segments import definition as d

Clause = ColumnElement[bool]
UNITS = {"hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1), "week": dt.timedelta(weeks=1)}
STANDARD_STRINGS = (
    "email",
    "phone_number",
    "external_id",
    "first_name",
    "last_name",
    "organization",
    "title",
    "locale",
    "image",
)
STANDARD_DATES = ("created", "updated", "last_event_date")
_BRACKETED = re.compile(r"""^(location|properties)\[(?:'(.+)'|"(.+)")\]$""")
EU_COUNTRIES = {
    "at", "austria", "be", "belgium", "bg", "bulgaria", "hr", "croatia", "cy", "cyprus", "cz", "czechia",
    "czech republic", "dk", "denmark", "ee", "estonia", "fi", "finland", "fr", "france", "de", "germany",
    "gr", "greece", "hu", "hungary", "ie", "ireland", "it", "italy", "lv", "latvia", "lt", "lithuania",
    "lu", "luxembourg", "mt", "malta", "nl", "netherlands", "pl", "poland", "pt", "portugal", "ro",
    "romania", "sk", "slovakia", "si", "slovenia", "es", "spain", "se", "sweden",
}  # fmt: skip
US_COUNTRIES = {"us", "usa", "united states", "united states of america"}
TRUE_WORDS = ("true",)
FALSE_WORDS = ("false",)


class Unsupported(Exception):
    """A condition or operator the engine does not compute; `where` is a pointer suffix."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(message)
        self.where = where


@dataclass
class Context:
    session: Session
    account_id: str
    now: dt.datetime
    relative: bool = False  # set when the result depends on `now`
    # Evaluated over every profile of the account (a full build), not a few: a metric condition
    # that stands alone in its group then reads its events in one grouped pass (see metric_condition).
    full: bool = False
    _placed: list[str] | None = field(default=None, repr=False)

    def placed_order_metrics(self) -> list[str]:
        if self._placed is None:
            stmt = select(Metric.id).where(Metric.account_id == self.account_id, Metric.name == PLACED_ORDER)
            self._placed = list(self.session.execute(stmt).scalars())
        return self._placed


def definite(clause: Any) -> Clause:
    """TRUE or FALSE, never NULL: SQL's three-valued logic would make negations drop rows."""
    return case((clause, true()), else_=false())


# ------------------------------------------------------------------------------ values


@dataclass
class Value:
    """How one property reads in SQL: its JSON kind and its text/number/array views."""

    kind: Any
    text: Any
    number: Any = None
    length: Any = None
    any_element: Callable[[Callable[[Any], Any]], Any] | None = None
    instant: Any = None  # a timestamp column (standard dates)


def json_value(session: Session, column: Any, key: str) -> Value:
    return Value(
        kind=dialect.json_kind(session, column, key),
        text=dialect.json_text(session, column, key),
        number=dialect.json_number(session, column, key),
        length=dialect.json_array_length(session, column, key),
        any_element=lambda cond: dialect.json_array_any(session, column, key, cond),
    )


def profile_property_problem(name: str) -> str | None:
    """Why a profile property name cannot be read (None when it can): what `profile_value` refuses,
    checked without a database, so a definition is refused when it is saved, not when it runs."""
    if name in STANDARD_STRINGS or name in STANDARD_DATES or _BRACKETED.match(name):
        return None
    return f"Unknown profile property {name!r}: use a standard field, location['...'] or properties['...']."


def profile_value(ctx: Context, name: str) -> Value:
    if name in STANDARD_STRINGS:
        column = getattr(Profile, name)
        return Value(kind=case((column.is_not(None), literal("string"))), text=column)
    if name in STANDARD_DATES:
        column = getattr(Profile, name)
        return Value(kind=case((column.is_not(None), literal("date"))), text=None, instant=column)
    match = _BRACKETED.match(name)
    if match is None:
        raise Unsupported(profile_property_problem(name) or name, "/property")
    key = match.group(2) or match.group(3)
    column = Profile.location if match.group(1) == "location" else Profile.properties
    return json_value(ctx.session, column, key)


# ----------------------------------------------------------------------------- filters


# Constructs whose meaning differs between Python's `re` (SQLite's REGEXP) and PostgreSQL's
# regular expressions, or that PostgreSQL lacks: refused so both databases agree.
_UNPORTABLE = re.compile(r"\(\?|\\[bBpPuUxN0-9]|\[\[:|\{,")


def checked_pattern(pattern: str) -> str:
    """A regex/nregex pattern, checked: valid, and meaning the same on SQLite and PostgreSQL
    (characters, `.`, `^`, `$`, `[...]`, `\\d \\w \\s` and their negations, groups, `|`, `*`,
    `+`, `?`, `{m,n}`). Matching is case-sensitive and unanchored, as `re.search` and `~`."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise Unsupported(f"The regular expression is not valid: {exc}.", "/filter/value") from None
    if _UNPORTABLE.search(pattern):
        raise Unsupported(
            "This regular expression uses a construct Tidings does not evaluate alike on every database"
            " ((?...), \\b, \\B, \\p, escapes by code, backreferences, [[:class:]], {,n}).",
            "/filter/value",
        )
    return pattern


def _like(text: str) -> str:
    return text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def is_set(v: Value) -> Clause:
    if v.instant is not None:
        return definite(v.instant.is_not(None))
    return definite(and_(v.kind.is_not(None), v.kind != "null", not_(and_(v.kind == "string", v.text == ""))))


def string_filter(v: Value, f: d.StringFilter | d.StringInFilter) -> Clause:
    if v.text is None:
        raise Unsupported("A string filter does not apply to a date field.", "/filter")
    lowered = func.lower(v.text)
    is_string = v.kind == "string"
    op = f.operator
    if isinstance(f, d.StringInFilter):
        positive = and_(is_string, lowered.in_([x.lower() for x in f.value])) if f.value else false()
        return definite(positive) if op == "in" else not_(definite(positive))
    value = f.value or ""
    base = op.removeprefix("not-")
    if base in ("regex", "nregex"):
        matches = and_(is_string, v.text.regexp_match(checked_pattern(value)))
        return definite(matches) if base == "regex" else not_(definite(matches))
    if base == "equals":
        positive = and_(is_string, lowered == value.lower())
    elif base == "contains":
        positive = and_(is_string, lowered.like(f"%{_like(value)}%", escape="\\"))
    elif base == "starts-with":
        positive = and_(is_string, lowered.like(f"{_like(value)}%", escape="\\"))
    else:  # ends-with
        positive = and_(is_string, lowered.like(f"%{_like(value)}", escape="\\"))
    return not_(definite(positive)) if op.startswith("not-") else definite(positive)


def compare(expr: Any, operator: str, value: Any) -> Any:
    return {
        "equals": lambda: expr == value,
        "not-equals": lambda: expr != value,
        "greater-than": lambda: expr > value,
        "greater-than-or-equal": lambda: expr >= value,
        "less-than": lambda: expr < value,
        "less-than-or-equal": lambda: expr <= value,
    }[operator]()


def numeric_filter(v: Value, f: d.NumericFilter) -> Clause:
    if v.number is None:
        raise Unsupported("A numeric filter does not apply to this field.", "/filter")
    if f.operator == "not-equals":
        return not_(definite(v.number == f.value))
    return definite(compare(v.number, f.operator, f.value))


def boolean_filter(v: Value, f: d.BooleanFilter) -> Clause:
    word = "true" if f.value else "false"
    if v.text is None:
        raise Unsupported("A boolean filter does not apply to a date field.", "/filter")
    return definite(
        or_(and_(v.kind == "boolean", v.text == word), and_(v.kind == "string", func.lower(v.text) == word))
    )


def _window(ctx: Context, f: Any) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[start, end] instants of a date filter (None: open); marks relative windows."""
    if isinstance(f, d.StaticDateFilter):
        at = d.when(f.date)
        return (at, None) if f.operator == "after" else (None, at)
    if isinstance(f, d.StaticDateRangeFilter):
        return d.when(f.start), d.when(f.end)
    ctx.relative = True
    if isinstance(f, d.RelativeDateFilter):
        span = UNITS[f.unit] * f.quantity
        if f.operator == "in-the-last":
            return ctx.now - span, ctx.now
        if f.operator == "in-the-next":
            return ctx.now, ctx.now + span
        return None, ctx.now - span  # at-least N units ago
    if isinstance(f, d.RelativeDateRangeFilter):
        low, high = sorted((f.start, f.end))
        return ctx.now - UNITS[f.unit] * high, ctx.now - UNITS[f.unit] * low
    raise Unsupported(f"The date operator {f.operator!r} is not computed here.", "/operator")


def instant_bounds(ctx: Context, column: Any, f: Any) -> list[Any]:
    """The bounds of a date filter on a timestamp column (none for alltime), as plain comparisons:
    ANDed into a WHERE they keep the rows `instant_filter` keeps, and an index on the column can
    use them. Static bounds: after/before are strict."""
    if isinstance(f, d.AlltimeDateFilter):
        return []
    start, end = _window(ctx, f)
    parts = []
    strict = isinstance(f, d.StaticDateFilter)
    if start is not None:
        parts.append(column > start if strict else column >= start)
    if end is not None:
        parts.append(column < end if strict else column <= end)
    return parts


def instant_filter(ctx: Context, column: Any, f: Any) -> Clause:
    """A date filter on a timestamp column, by instant, as a definite boolean."""
    if isinstance(f, d.AlltimeDateFilter):
        return true()
    return definite(and_(column.is_not(None), *instant_bounds(ctx, column, f)))


def anniversary_window(now: dt.datetime, f: d.RelativeAnniversaryDateFilter) -> tuple[dt.date, dt.date]:
    """The days (UTC, both included) whose anniversaries `anniversary-last` / `-next` N units
    selects: from N units ago to today, or from today to N units ahead."""
    span = UNITS[f.unit] * f.quantity
    if f.operator == "anniversary-last":
        return (now - span).date(), now.date()
    return now.date(), (now + span).date()


def anniversary_days(now: dt.datetime, f: d.RelativeAnniversaryDateFilter) -> set[str] | None:
    """The month-days ("MM-DD") whose anniversary falls in the window; None when every one does.
    A 29 February counts on 28 February in a year without one."""
    first, last = anniversary_window(now, f)
    if (last - first).days >= 365:
        return None
    days = set()
    day = first
    while day <= last:
        days.add(day.strftime("%m-%d"))
        if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
            days.add("02-29")
        day += dt.timedelta(days=1)
    return days


# Date filters that read a date by its month and day, not as an instant.
DAY_FILTERS = (d.CalendarDateFilter, d.AnniversaryDateFilter, d.RelativeAnniversaryDateFilter)


def day_value(ctx: Context, column: Any) -> Value:
    """A timestamp column (created, updated, last_event_date) read as its UTC day, the way custom
    date properties are read, for the calendar and anniversary operators."""
    return Value(
        kind=case((column.is_not(None), literal("string"))), text=dialect.utc_day(ctx.session, column)
    )


def day_filter(ctx: Context, v: Value, f: Any) -> Clause:
    """A date filter on a custom property: compares the day (YYYY-MM-DD) of an ISO string."""
    looks_like_date = and_(v.kind == "string", v.text.like("____-__-__%"))
    day = func.substr(v.text, 1, 10)
    if isinstance(f, d.CalendarDateFilter):
        return definite(and_(looks_like_date, func.substr(v.text, 6, 2) == f"{f.value:02d}"))
    if isinstance(f, d.RelativeAnniversaryDateFilter):
        ctx.relative = True
        days = anniversary_days(ctx.now, f)
        if days is None:  # a window of a year or more holds every anniversary
            return definite(looks_like_date)
        return definite(and_(looks_like_date, func.substr(v.text, 6, 5).in_(sorted(days))))
    if isinstance(f, d.AnniversaryDateFilter):
        ctx.relative = True
        if f.operator == "anniversary":
            return definite(and_(looks_like_date, func.substr(v.text, 6, 5) == ctx.now.strftime("%m-%d")))
        return definite(and_(looks_like_date, func.substr(v.text, 6, 2) == ctx.now.strftime("%m")))
    start, end = _window(ctx, f)
    strict = isinstance(f, d.StaticDateFilter)
    parts = [looks_like_date]
    if start is not None:
        bound = start.date().isoformat()
        parts.append(day > bound if strict else day >= bound)
    if end is not None:
        bound = end.date().isoformat()
        parts.append(day < bound if strict else day <= bound)
    return definite(and_(*parts))


def _equals(x: str) -> Callable[[Any], Any]:
    return lambda e: e == x


def list_filter(v: Value, f: Any) -> Clause:
    if v.any_element is None or v.length is None:
        raise Unsupported("A list filter applies only to list properties.", "/filter")
    has = v.any_element
    if isinstance(f, d.ListContainsFilter):
        positive = has(lambda e: e == str(f.value)) if f.value is not None else false()
        return definite(positive) if f.operator == "contains" else not_(definite(positive))
    if isinstance(f, d.ListLengthFilter):
        op = f.operator.replace("length-", "")
        return definite(compare(v.length, op, f.value))
    if isinstance(f, d.ListSetFilter):
        if f.operator.endswith("-any"):
            positive = or_(false(), *[has(_equals(x)) for x in f.value])
        else:
            positive = and_(true(), *[has(_equals(x)) for x in f.value])
        return not_(definite(positive)) if f.operator.startswith("not-") else definite(positive)
    # contains-substring
    pattern = f"%{_like(f.value or '')}%"
    positive = has(lambda e: func.lower(e).like(pattern, escape="\\"))
    return not_(definite(positive)) if f.operator.startswith("not-") else definite(positive)


def phone_country_filter(v: Value, f: d.PhoneCountryFilter) -> Clause:
    """By country calling code of the E.164 number: +1 stands for the US, Canada and the rest of
    the North American plan alike (the stored number says no more without a numbering plan)."""
    if v.text is None:
        raise Unsupported("A phone country filter applies to phone_number.", "/filter")
    codes = set()
    for region in f.value:
        code = phonenumbers.country_code_for_region(region.upper())
        if code == 0:
            raise Unsupported(f"Unknown country code {region!r}.", "/filter/value")
        codes.add(code)
    positive = or_(false(), *[and_(v.kind == "string", v.text.like(f"+{code}%")) for code in sorted(codes)])
    return definite(positive) if f.operator == "phone-country-code-in" else not_(definite(positive))


def apply_filter(ctx: Context, v: Value, f: Any) -> Clause:
    if isinstance(f, d.ExistenceFilter):
        return is_set(v) if f.operator == "is-set" else not_(is_set(v))
    if isinstance(f, d.StringFilter | d.StringInFilter):
        return string_filter(v, f)
    if isinstance(f, d.PhoneCountryFilter):
        return phone_country_filter(v, f)
    if isinstance(f, d.NumericFilter):
        return numeric_filter(v, f)
    if isinstance(f, d.BooleanFilter):
        return boolean_filter(v, f)
    if isinstance(f, d.ListContainsFilter | d.ListLengthFilter | d.ListSetFilter | d.ListSubstringFilter):
        return list_filter(v, f)
    if v.instant is not None:
        if isinstance(f, DAY_FILTERS):
            return day_filter(ctx, day_value(ctx, v.instant), f)
        return instant_filter(ctx, v.instant, f)
    return day_filter(ctx, v, f)


# --------------------------------------------------------------------------- conditions


def metric_events(ctx: Context, c: d.ProfileMetricCondition | d.FunnelStep, events: Any = Event) -> list[Any]:
    """What selects the events a metric condition (or a funnel step) measures, whatever their
    profile and time; `events` may be an alias of the events table."""
    expansion = custom_metrics.expand(ctx.session, ctx.account_id, c.metric_id)
    where: list[Any] = (
        [events.account_id == ctx.account_id, events.metric_id == c.metric_id]
        if expansion is None
        else [custom_metrics.member_clause(ctx.session, ctx.account_id, expansion, events)]
    )
    for index, mf in enumerate(c.metric_filters or []):
        if mf.filter is None:
            continue
        try:
            where.append(
                apply_filter(ctx, json_value(ctx.session, events.properties, mf.property), mf.filter)
            )
        except Unsupported as exc:
            raise Unsupported(str(exc), f"/metric_filters/{index}/filter") from exc
    return where


def metric_value(ctx: Context, metric_id: str, events: Any = Event) -> Any:
    """What a `sum` measures on a metric's events: their value; a custom metric's value property."""
    expansion = custom_metrics.expand(ctx.session, ctx.account_id, metric_id)
    return (
        events.value if expansion is None else custom_metrics.value_expression(ctx.session, expansion, events)
    )
