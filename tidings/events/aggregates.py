"""query_metric_aggregates: count, sum of value and unique profiles per time bucket.

Buckets follow the calendar of the query's timezone (a day is a local day, DST included):
their boundaries are computed here, sent as a VALUES table, and the database groups the
metric's events by bucket and by the requested dimensions in one query.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, and_, column, func, select, values
from sqlalchemy.orm import Session

from tidings.db.base import UTCDateTime
from tidings.db.dialect import json_text
from tidings.events import custom_metrics, repository
from tidings.events.schemas import MetricAggregateAttributes
from tidings.events.tables import Event
from tidings.jsonapi.errors import InvalidInput, NotFound
from tidings.jsonapi.filters import Comparison, Logical, Node, compare, parse_filter

MAX_BUCKETS = 5000
POINTER = "/data/attributes"
COLUMN_DIMENSIONS = {"$value_currency": Event.value_currency}


@dataclass
class Aggregate:
    id: str
    dates: list[dt.datetime]
    rows: list[dict[str, Any]]
    next_cursor: str | None


# Keys the zone database holds that are not places: the machine's own zone, POSIX rules, and
# "Factory" (a zone that means "not set", which Klaviyo refuses too).
NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})


def _zone(name: str | None) -> zoneinfo.ZoneInfo:
    if name is None:
        return zoneinfo.ZoneInfo("UTC")
    try:
        if name in NOT_ZONES:
            raise ValueError(name)
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"Unknown timezone {name!r}.", pointer=f"{POINTER}/timezone") from None


def _conditions(filters: list[str]) -> list[Comparison]:
    found: list[Comparison] = []
    for index, text in enumerate(filters):
        try:
            node: Node = parse_filter(text)
        except InvalidInput as error:
            raise InvalidInput(error.detail, pointer=f"{POINTER}/filter/{index}") from None
        items = node.items if isinstance(node, Logical) and node.op == "and" else (node,)
        for item in items:
            if not isinstance(item, Comparison):
                raise InvalidInput(
                    "Report filters take comparisons only (and a list means AND).",
                    pointer=f"{POINTER}/filter/{index}",
                )
            found.append(item)
    return found


# A datetime bound in the filter, as the half-open range [start, end) it allows. Times are stored
# to the microsecond, so "after t" is "from t + 1 us" and "up to t" is "before t + 1 us".
TICK = dt.timedelta(microseconds=1)
LOWER = {"greater-or-equal": dt.timedelta(0), "greater-than": TICK, "equals": dt.timedelta(0)}
UPPER = {"less-than": dt.timedelta(0), "less-or-equal": TICK, "equals": TICK}


def _range(conditions: list[Comparison], tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The range every datetime condition allows (the spec's pair, greater-or-equal and less-than,
    or any other comparisons; several of them all apply)."""
    starts: list[dt.datetime] = []
    ends: list[dt.datetime] = []
    for cond in conditions:
        if cond.field != "datetime":
            continue
        if cond.op not in LOWER and cond.op not in UPPER:
            raise InvalidInput(
                f"Operator {cond.op!r} is not supported on datetime: use greater-or-equal and less-than.",
                pointer=f"{POINTER}/filter",
            )
        if not isinstance(cond.value, dt.datetime):
            raise InvalidInput("datetime filters take an ISO datetime.", pointer=f"{POINTER}/filter")
        value = cond.value if cond.value.tzinfo else cond.value.replace(tzinfo=tz)
        try:
            if cond.op in LOWER:
                starts.append((value + LOWER[cond.op]).astimezone(dt.UTC))
            if cond.op in UPPER:
                ends.append((value + UPPER[cond.op]).astimezone(dt.UTC))
        except OverflowError:
            raise _out_of_range() from None
    if not starts or not ends:
        raise InvalidInput(
            "The filter must include a datetime range: "
            "greater-or-equal(datetime,...) and less-than(datetime,...).",
            pointer=f"{POINTER}/filter",
        )
    start, end = max(starts), min(ends)
    if end <= start:
        raise InvalidInput("The datetime range is empty.", pointer=f"{POINTER}/filter")
    return start, end


def _out_of_range() -> InvalidInput:
    return InvalidInput(
        "The datetime range is outside the dates Tidings can count.", pointer=f"{POINTER}/filter"
    )


def bucket_starts(start: dt.datetime, end: dt.datetime, interval: str, tz: dt.tzinfo) -> list[dt.datetime]:
    """The start of every bucket that overlaps [start, end), on the timezone's calendar."""
    local = start.astimezone(tz)
    if interval == "hour":
        first = local.replace(minute=0, second=0, microsecond=0)
        step = dt.timedelta(hours=1)
        starts, current = [], first.astimezone(dt.UTC)
        while current < end:
            starts.append(current.astimezone(tz))
            current += step
            if len(starts) > MAX_BUCKETS:
                break
        return starts
    day = local.date()
    if interval == "week":
        day -= dt.timedelta(days=day.weekday())  # weeks start on Monday
    elif interval == "month":
        day = day.replace(day=1)
    starts = []
    while True:
        begin = dt.datetime.combine(day, dt.time(), tz)
        if begin >= end or len(starts) > MAX_BUCKETS:
            return starts
        starts.append(begin)
        if interval == "day":
            day += dt.timedelta(days=1)
        elif interval == "week":
            day += dt.timedelta(days=7)
        else:
            day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _dimension(session: Session, name: str) -> Any:
    return (
        COLUMN_DIMENSIONS.get(name)
        if name in COLUMN_DIMENSIONS
        else json_text(session, Event.properties, name)
    )


def _property_clause(session: Session, cond: Comparison) -> Any:
    target = _dimension(session, cond.field)
    if cond.op not in ("equals", "any", "contains", "starts-with", "ends-with"):
        raise InvalidInput(
            f"Operator {cond.op!r} is not supported on {cond.field!r} in reports.",
            pointer=f"{POINTER}/filter",
        )
    value = [_as_text(v) for v in cond.value] if isinstance(cond.value, list) else _as_text(cond.value)
    return compare(cond.op, cond.field, target, value)


def _as_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None if value is None else str(value)


def _decode_offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["offset"]
    except (ValueError, KeyError, TypeError):
        offset = None
    if type(offset) is not int or offset < 0:
        raise InvalidInput("Invalid page_cursor.", pointer=f"{POINTER}/page_cursor")
    return offset


def query(session: Session, account_id: str, attrs: MetricAggregateAttributes) -> Aggregate:
    # A metric, or a custom metric: its members' events (custom_metrics.expand, the one expansion).
    members: Any = and_(Event.account_id == account_id, Event.metric_id == attrs.metric_id)
    value: Any = Event.value
    if repository.get_metric(session, account_id, attrs.metric_id) is None:
        expansion = custom_metrics.expand(session, account_id, attrs.metric_id)
        if expansion is None:
            raise NotFound(f"A metric with id {attrs.metric_id} does not exist.")
        members = custom_metrics.member_clause(session, account_id, expansion, Event)
        value = custom_metrics.value_expression(session, expansion, Event)
    tz = _zone(attrs.timezone)
    conditions = _conditions(attrs.filter)
    start, end = _range(conditions, tz)
    try:
        starts = bucket_starts(start, end, attrs.interval or "day", tz)
    except (OverflowError, ValueError):  # a calendar step past year 9999 (or before year 1)
        raise _out_of_range() from None
    if len(starts) > MAX_BUCKETS:
        raise InvalidInput(f"The range has more than {MAX_BUCKETS} intervals.", pointer=f"{POINTER}/interval")
    bounds = [*starts[1:], end]
    buckets = (
        values(
            column("idx", Integer),
            column("b_start", UTCDateTime()),
            column("b_end", UTCDateTime()),
            name="buckets",
        )
        .data([(i, max(s, start), e) for i, (s, e) in enumerate(zip(starts, bounds, strict=True))])
        .cte("buckets")
    )

    dims = [_dimension(session, name).label(f"d{i}") for i, name in enumerate(attrs.by or [])]
    measures = [
        func.count().label("count"),
        func.coalesce(func.sum(value), 0.0).label("sum_value"),
        func.count(func.distinct(Event.profile_id)).label("unique"),
    ]
    stmt = (
        select(buckets.c.idx, *dims, *measures)
        .select_from(Event)
        .join(buckets, and_(Event.time >= buckets.c.b_start, Event.time < buckets.c.b_end))
        .where(members)
        .group_by(buckets.c.idx, *[d.element for d in dims])
    )
    for cond in conditions:
        if cond.field != "datetime":
            stmt = stmt.where(_property_clause(session, cond))

    series: dict[tuple[str, ...], dict[str, list[float]]] = {}
    for row in session.execute(stmt):
        fields = row._mapping
        key = tuple("" if fields[f"d{i}"] is None else str(fields[f"d{i}"]) for i in range(len(dims)))
        entry = series.setdefault(key, {m: [0] * len(starts) for m in attrs.measurements})
        for measurement in attrs.measurements:
            entry[measurement][fields["idx"]] = fields[measurement]
    if not dims and not series:
        series[()] = {m: [0] * len(starts) for m in attrs.measurements}

    rows = [{"dimensions": list(key), "measurements": value} for key, value in series.items()]
    rows = _sorted(rows, attrs.sort, attrs.by or [], attrs.measurements)
    offset = _decode_offset(attrs.page_cursor)
    size = attrs.page_size or 500
    page = rows[offset : offset + size]
    next_cursor = None
    if offset + size < len(rows):
        next_cursor = (
            base64.urlsafe_b64encode(json.dumps({"offset": offset + size}).encode()).decode().rstrip("=")
        )
    digest = hashlib.sha1(attrs.model_dump_json().encode() + account_id.encode()).hexdigest()[:20]
    return Aggregate(id=digest, dates=starts, rows=page, next_cursor=next_cursor)


def _sorted(
    rows: list[dict[str, Any]], sort: str | None, by: list[str], measurements: Sequence[str]
) -> list[dict[str, Any]]:
    if not sort:
        return sorted(rows, key=lambda r: r["dimensions"])
    name = sort.lstrip("-")
    reverse = sort.startswith("-")
    if name in by:
        index = by.index(name)
        return sorted(rows, key=lambda r: r["dimensions"][index], reverse=reverse)
    if name in measurements:  # valid on an empty result too
        return sorted(rows, key=lambda r: sum(r["measurements"][name]), reverse=reverse)
    raise InvalidInput(
        f"Cannot sort by {sort!r}: sort by a `by` dimension or a measurement.", pointer=f"{POINTER}/sort"
    )
