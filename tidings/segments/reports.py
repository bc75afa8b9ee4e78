"""query_segment_values and query_segment_series, computed from the membership history.

total_members at an instant = entries minus exits recorded up to it (the history starts with
the segment's first build, so this is exact); members_added / members_removed count the
entries / exits inside the window.

Pre-defined timeframes use the account's timezone: `last_N_days` are the N whole days before
today; `this_*` run from the start of the current week (Monday), month or year to now;
`last_week`/`last_month`/`last_year` are the previous whole calendar periods; `last_3_months`
and `last_12_months` are the whole months before the current one.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tidings.accounts.tables import Account
from tidings.db.base import utcnow
from tidings.events.aggregates import bucket_starts
from tidings.inference import parse_date
from tidings.jsonapi.errors import InvalidInput
from tidings.jsonapi.filters import FilterField, check_whitelist, compile_filter, parse_filter
from tidings.segments.tables import Segment, SegmentChange

POINTER = "/data/attributes"
STATISTICS = ("members_added", "members_removed", "net_members_changed", "total_members")
INTERVALS = {"hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month"}
MAX_SPAN = {
    "hourly": dt.timedelta(days=7),
    "daily": dt.timedelta(days=60),
    "weekly": dt.timedelta(weeks=52),
    "monthly": dt.timedelta(weeks=52),
}


def _months_back(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def window(session: Session, account_id: str, timeframe: dict[str, Any]) -> tuple[dt.datetime, dt.datetime]:
    account = session.get(Account, account_id)
    tz = zoneinfo.ZoneInfo(account.timezone if account is not None else "UTC")
    now = utcnow().astimezone(tz)
    today = dt.datetime.combine(now.date(), dt.time(), tz)
    if "key" in timeframe:
        key = timeframe["key"]
        days = {"last_7_days": 7, "last_30_days": 30, "last_90_days": 90, "last_365_days": 365}
        if key in days:
            return today - dt.timedelta(days=days[key]), today
        if key == "today":
            return today, now
        if key == "yesterday":
            return today - dt.timedelta(days=1), today
        week = today - dt.timedelta(days=today.weekday())
        month = dt.datetime.combine(now.date().replace(day=1), dt.time(), tz)
        year = dt.datetime.combine(now.date().replace(month=1, day=1), dt.time(), tz)
        ranges = {
            "this_week": (week, now),
            "this_month": (month, now),
            "this_year": (year, now),
            "last_week": (week - dt.timedelta(days=7), week),
            "last_month": (dt.datetime.combine(_months_back(month.date(), 1), dt.time(), tz), month),
            "last_year": (year.replace(year=year.year - 1), year),
            "last_3_months": (dt.datetime.combine(_months_back(month.date(), 3), dt.time(), tz), month),
            "last_12_months": (dt.datetime.combine(_months_back(month.date(), 12), dt.time(), tz), month),
        }
        if key not in ranges:
            raise InvalidInput(f"Unknown timeframe key {key!r}.", pointer=f"{POINTER}/timeframe/key")
        return ranges[key]
    start, end = parse_date(timeframe.get("start")), parse_date(timeframe.get("end"))
    if start is None or end is None or end <= start:
        raise InvalidInput("A custom timeframe needs start < end (ISO 8601).", pointer=f"{POINTER}/timeframe")
    # "Offset is ignored and the company timezone is used."
    return start.replace(tzinfo=tz), end.replace(tzinfo=tz)


def _segment_ids(session: Session, account_id: str, filter_text: str | None) -> list[str]:
    stmt = select(Segment.id).where(Segment.account_id == account_id)
    if filter_text:
        node = parse_filter(filter_text)
        check_whitelist(node, {"segment_id": ["equals", "any"]})
        stmt = stmt.where(compile_filter(node, {"segment_id": FilterField(Segment.id)}))
    return list(session.execute(stmt.order_by(Segment.id)).scalars())


def _counts(
    session: Session, account_id: str, ids: list[str], end: dt.datetime, start: dt.datetime | None
) -> dict[tuple[str, bool], int]:
    stmt = (
        select(SegmentChange.segment_id, SegmentChange.entered, func.count())
        .where(
            SegmentChange.account_id == account_id, SegmentChange.segment_id.in_(ids), SegmentChange.at < end
        )
        .group_by(SegmentChange.segment_id, SegmentChange.entered)
    )
    if start is not None:
        stmt = stmt.where(SegmentChange.at >= start)
    return {(sid, bool(entered)): int(n) for sid, entered, n in session.execute(stmt)}


def _statistics(
    session: Session, account_id: str, ids: list[str], start: dt.datetime, end: dt.datetime
) -> dict[str, dict[str, int]]:
    inside = _counts(session, account_id, ids, end, start)
    upto = _counts(session, account_id, ids, end, None)
    out = {}
    for sid in ids:
        added, removed = inside.get((sid, True), 0), inside.get((sid, False), 0)
        out[sid] = {
            "members_added": added,
            "members_removed": removed,
            "net_members_changed": added - removed,
            "total_members": upto.get((sid, True), 0) - upto.get((sid, False), 0),
        }
    return out


def values(
    session: Session,
    account_id: str,
    statistics: list[str],
    timeframe: dict[str, Any],
    filter_text: str | None,
) -> list[dict[str, Any]]:
    start, end = window(session, account_id, timeframe)
    ids = _segment_ids(session, account_id, filter_text)
    stats = _statistics(session, account_id, ids, start, end) if ids else {}
    return [
        {"groupings": {"segment_id": sid}, "statistics": {k: stats[sid][k] for k in statistics}}
        for sid in ids
    ]


def series(
    session: Session,
    account_id: str,
    statistics: list[str],
    timeframe: dict[str, Any],
    interval: str,
    filter_text: str | None,
) -> tuple[list[dict[str, Any]], list[str]]:
    start, end = window(session, account_id, timeframe)
    if end - start > MAX_SPAN[interval]:
        raise InvalidInput(
            f"The timeframe is too long for {interval} intervals.", pointer=f"{POINTER}/interval"
        )
    tz = start.tzinfo or dt.UTC
    starts = [s for s in bucket_starts(start, end, INTERVALS[interval], tz)]
    ids = _segment_ids(session, account_id, filter_text)
    per_bucket = []
    for i, begin in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else end
        per_bucket.append(_statistics(session, account_id, ids, max(begin, start), stop) if ids else {})
    results = [
        {
            "groupings": {"segment_id": sid},
            "statistics": {k: [bucket[sid][k] for bucket in per_bucket] for k in statistics},
        }
        for sid in ids
    ]
    return results, [s.isoformat() for s in starts]
