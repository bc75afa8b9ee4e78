"""Next-change instants: when a profile's membership of a segment can next change with time alone.

A condition depends on time when it has a relative window (`in-the-last`, `in-the-next`,
`at-least`, relative `between`) or an anniversary. With no new data, its truth can change
only at instants known now: an item (an event, a list or segment join, a consent or
suppression date, the profile's own date) entering or leaving the window, the day boundary
at which a date compared by day enters or leaves, an anniversary's midnight. For every
profile evaluated we compute, per time-dependent part of a condition, the first instant at
which that part's truth changes, and keep the earliest over the definition: the segment's
membership cannot change before it. (It may not change then either, when another condition
decides; re-evaluating costs only the evaluation, and a later instant is never stored.)

Windows. A relative filter at instant N selects [N + lo, N + hi] (lo None: no lower bound,
`at-least`). An item dated t is inside while t - hi <= N <= t - lo: it enters at t - hi and
is out from t - lo + 1 µs. A metric condition measures the items inside (count, or sum of
values) against its threshold; between these instants the measure is constant, so a sweep
over them in time order finds the first one at which the test's answer changes: with a
threshold of 3 and 5 events inside, that is when the third-oldest leaves; for "at least 7
days ago", when the newest pending event has aged. Items that left for good (t < N + lo) are
never read.

Everything is read in bulk: one query per time-dependent part (two for `at-least`), for the
profiles evaluated (or the whole account on a build), never one per profile. The same
semantics as the compiler (tidings/segments/compiler.py), checked against the brute-force
evaluator in tests/segments/test_instants.py.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

from pydantic import ValidationError
from sqlalchemy import Select, and_, func, null, select
from sqlalchemy.orm import Session

from tidings.consent.policy import Channel, Purpose
from tidings.consent.tables import EmailSuppression, Subscription
from tidings.db.dialect import in_values
from tidings.events.tables import Event
from tidings.lists.tables import ListMember
from tidings.profiles.tables import Profile
from tidings.segments import definition as d
from tidings.segments import sql
from tidings.segments.consent import CHANNELS, DATE_FILTER, SUPPRESSION_FIELDS
from tidings.segments.tables import SegmentMember

EPSILON = dt.timedelta(microseconds=1)
ZERO = dt.timedelta(0)
CHUNK = 500
# A sum this close to its threshold might compare either way in the database's floating point.
TOLERANCE = Fraction(1, 10**9)


@dataclass(frozen=True)
class Window:
    lo: dt.timedelta | None  # None: unbounded in the past
    hi: dt.timedelta


def relative_window(f: Any) -> Window | None:
    """The moving window of a relative date filter (as sql._window computes it)."""
    if isinstance(f, d.RelativeDateFilter):
        span = sql.UNITS[f.unit] * f.quantity
        if f.operator == "in-the-last":
            return Window(-span, ZERO)
        if f.operator == "in-the-next":
            return Window(ZERO, span)
        return Window(None, -span)  # at-least
    if isinstance(f, d.RelativeDateRangeFilter):
        low, high = sorted((f.start, f.end))
        unit = sql.UNITS[f.unit]
        return Window(-unit * high, -unit * low)
    return None


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def _rows(
    session: Session, stmt: Select[Any], profile: Any, profile_ids: Sequence[str] | None
) -> Iterator[Any]:
    if profile_ids is None:
        yield from session.execute(stmt)
        return
    for start in range(0, len(profile_ids), CHUNK):
        chunk = profile_ids[start : start + CHUNK]
        yield from session.execute(stmt.where(in_values(session, profile, chunk)))


class Part(Protocol):
    def next_changes(
        self, session: Session, profile_ids: Sequence[str] | None, now: dt.datetime
    ) -> dict[str, dt.datetime]: ...


# ------------------------------------------------------------------------- dated items


@dataclass
class Items:
    """Dated rows of one kind: `stmt` selects (profile id, instant, value) of the account."""

    stmt: Select[Any]
    profile: Any
    at: Any
    value: Any = None


@dataclass
class Measure:
    """True when the count (or the sum of values) of the items inside the window passes `holds`."""

    sources: list[Items]
    window: Window
    holds: Callable[[Any], bool]
    sums: bool = False
    threshold: float | None = None

    def next_changes(
        self, session: Session, profile_ids: Sequence[str] | None, now: dt.datetime
    ) -> dict[str, dt.datetime]:
        lo, hi = self.window.lo, self.window.hi
        items: dict[str, list[tuple[dt.datetime, Any]]] = defaultdict(list)
        for source in self.sources:
            # Inside now or still to come; with no lower bound only those to come (the others stay).
            bound = source.at >= now + lo if lo is not None else source.at > now + hi
            for pid, at, value in _rows(session, source.stmt.where(bound), source.profile, profile_ids):
                items[pid].append((at, value))
        base: dict[str, tuple[int, Fraction]] = {}
        if lo is None and items:
            for source in self.sources:
                total = func.sum(func.coalesce(source.value, 0.0)) if source.value is not None else null()
                stmt = (
                    source.stmt.with_only_columns(source.profile, func.count(), total)
                    .where(source.at <= now + hi)
                    .group_by(source.profile)
                )
                for pid, count, value in _rows(session, stmt, source.profile, sorted(items)):
                    was_count, was_total = base.get(pid, (0, Fraction(0)))
                    base[pid] = (was_count + int(count), was_total + Fraction(value or 0))
        found = {}
        for pid, dated in items.items():
            at = self.first_change(now, dated, base.get(pid, (0, Fraction(0))))
            if at is not None:
                found[pid] = at
        return found

    def first_change(
        self, now: dt.datetime, dated: list[tuple[dt.datetime, Any]], base: tuple[int, Fraction]
    ) -> dt.datetime | None:
        lo, hi = self.window.lo, self.window.hi
        count, total = base
        steps: dict[dt.datetime, list[Any]] = {}
        for at, value in dated:
            amount: Any = Fraction(value) if self.sums and value is not None else 0
            enter = at - hi
            if enter > now:
                step = steps.setdefault(enter, [0, 0])
                step[0] += 1
                step[1] += amount
            else:
                count += 1
                total += amount
            if lo is not None:
                step = steps.setdefault(at - lo + EPSILON, [0, 0])
                step[0] -= 1
                step[1] -= amount
        answer, unsure = self._test(count, total)
        for instant in sorted(steps):
            count += steps[instant][0]
            total += steps[instant][1]
            later, later_unsure = self._test(count, total)
            if unsure or later_unsure or later != answer:
                return instant
        return None

    def _test(self, count: int, total: Fraction) -> tuple[bool, bool]:
        if not self.sums:
            return bool(self.holds(count)), False
        close = False
        if self.threshold is not None:
            threshold = Fraction(self.threshold)
            close = abs(total - threshold) <= TOLERANCE * max(Fraction(1), abs(threshold))
        return bool(self.holds(float(total))), close


@dataclass
class Crossings:
    """Every instant an item enters or leaves the window: for a condition whose truth depends on
    which items are inside, not only on how many (a funnel's first steps); never late."""

    sources: list[Items]
    window: Window

    def next_changes(
        self, session: Session, profile_ids: Sequence[str] | None, now: dt.datetime
    ) -> dict[str, dt.datetime]:
        lo, hi = self.window.lo, self.window.hi
        found: dict[str, dt.datetime] = {}
        for source in self.sources:
            bound = source.at >= now + lo if lo is not None else source.at > now + hi
            for pid, at, _value in _rows(session, source.stmt.where(bound), source.profile, profile_ids):
                for instant in (at - hi, at - lo + EPSILON if lo is not None else None):
                    if instant is not None and instant > now and (pid not in found or instant < found[pid]):
                        found[pid] = instant
        return found


def _at_least_one(count: Any) -> bool:
    return bool(count >= 1)


# ---------------------------------------------------------------- dates compared by day


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


@dataclass
class DayWindow:
    """A relative window over a date property compared by day (`day_filter` of the compiler):
    inside while (N + lo).date() <= the property's YYYY-MM-DD <= (N + hi).date()."""

    account_id: str
    value: sql.Value
    window: Window

    def next_changes(
        self, session: Session, profile_ids: Sequence[str] | None, now: dt.datetime
    ) -> dict[str, dt.datetime]:
        found = {}
        for pid, text in _rows(session, _dated(self.account_id, self.value), Profile.id, profile_ids):
            at = self.first_change(now, str(text)[:10])
            if at is not None:
                found[pid] = at
        return found

    def first_change(self, now: dt.datetime, day: str) -> dt.datetime | None:
        lo, hi = self.window.lo, self.window.hi
        high = (now + hi).date()
        if lo is not None and day < (now + lo).date().isoformat():
            return None  # left for good
        if day > high.isoformat():  # enters when (N + hi) reaches that day
            first = _day(day)
            if first is None:  # not a real date: the next day boundary, conservatively
                return _midnight(high + dt.timedelta(days=1)) - hi
            return _midnight(first) - hi
        if lo is None:
            return None  # inside for good
        low = (now + lo).date()
        last = _day(day)
        if last is None:
            return _midnight(low + dt.timedelta(days=1)) - lo
        try:
            return _midnight(last + dt.timedelta(days=1)) - lo
        except OverflowError:
            return None


@dataclass
class Anniversary:
    """`anniversary` (month and day are today's) or `anniversary-month` (the month is this month)."""

    account_id: str
    value: sql.Value
    month_only: bool

    def next_changes(
        self, session: Session, profile_ids: Sequence[str] | None, now: dt.datetime
    ) -> dict[str, dt.datetime]:
        found = {}
        for pid, text in _rows(session, _dated(self.account_id, self.value), Profile.id, profile_ids):
            at = self.first_change(now, str(text))
            if at is not None:
                found[pid] = at
        return found

    def first_change(self, now: dt.datetime, text: str) -> dt.datetime | None:
        today = now.date()
        if self.month_only:
            month = text[5:7]
            if month == today.strftime("%m"):
                return _midnight(_first_of_next_month(today))
            if not (month.isdigit() and 1 <= int(month) <= 12):
                return None
            year = today.year if int(month) > today.month else today.year + 1
            return _midnight(dt.date(year, int(month), 1))
        month_day = text[5:10]
        if month_day == today.strftime("%m-%d"):
            return _midnight(today + dt.timedelta(days=1))
        month, day = month_day[:2], month_day[3:]
        if not (month.isdigit() and day.isdigit() and month_day[2:3] == "-"):
            return None
        for year in range(today.year, today.year + 9):  # 29 February comes back within 8 years
            try:
                candidate = dt.date(year, int(month), int(day))
            except ValueError:
                continue
            if candidate > today:
                return _midnight(candidate)
        return None


@dataclass
class RelativeAnniversary:
    """`anniversary-last` / `anniversary-next` N units: the window of month-days moves at each
    midnight and, for hours, when now -/+ N hours crosses one. Each distinct month-day gets the
    first of those instants at which it enters or leaves; its profiles share it."""

    account_id: str
    value: sql.Value
    filter: d.RelativeAnniversaryDateFilter

    def next_changes(
        self, session: Session, profile_ids: Sequence[str] | None, now: dt.datetime
    ) -> dict[str, dt.datetime]:
        rows = [
            (pid, str(text)[5:10])
            for pid, text in _rows(session, _dated(self.account_id, self.value), Profile.id, profile_ids)
        ]
        firsts = self.first_changes(now, {month_day for _, month_day in rows})
        return {pid: firsts[month_day] for pid, month_day in rows if month_day in firsts}

    def first_changes(self, now: dt.datetime, month_days: set[str]) -> dict[str, dt.datetime]:
        inside_now = sql.anniversary_days(now, self.filter)
        if inside_now is None:
            return {}  # every anniversary is inside, always
        span = sql.UNITS[self.filter.unit] * self.filter.quantity
        candidates = sorted(
            {
                at
                for k in range(-1, 369)
                for at in (
                    _midnight(now.date() + dt.timedelta(days=k)) + shift
                    for shift in (dt.timedelta(0), span, -span)
                )
                if at > now
            }
        )
        pending = {md: md in inside_now for md in month_days}
        found: dict[str, dt.datetime] = {}
        for at in candidates:
            if not pending:
                break
            inside = sql.anniversary_days(at, self.filter) or set()
            for month_day in [md for md, was in pending.items() if (md in inside) != was]:
                found[month_day] = at
                del pending[month_day]
        return found


def _first_of_next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _dated(account_id: str, value: sql.Value) -> Select[Any]:
    """Profiles whose property looks like a date (as the compiler's day filters require)."""
    return select(Profile.id, value.text).where(
        Profile.account_id == account_id, value.kind == "string", value.text.like("____-__-__%")
    )


# ------------------------------------------------------------------------- conditions


def parts(ctx: sql.Context, definition: d.SegmentDefinition) -> list[Part]:
    """The time-dependent parts of a definition (none: its membership never moves with time)."""
    found: list[Part] = []
    for _, _, cond in definition.conditions():
        found += _condition_parts(ctx, cond)
    return found


def next_changes(
    session: Session, parts_: Iterable[Part], profile_ids: Sequence[str] | None, now: dt.datetime
) -> dict[str, dt.datetime]:
    """The earliest instant, over the parts, at which each profile's membership may change."""
    earliest: dict[str, dt.datetime] = {}
    for part in parts_:
        for pid, at in part.next_changes(session, profile_ids, now).items():
            if pid not in earliest or at < earliest[pid]:
                earliest[pid] = at
    return earliest


def _condition_parts(ctx: sql.Context, c: Any) -> list[Part]:
    if isinstance(c, d.ProfilePropertyCondition):
        return _property_parts(ctx, c)
    if isinstance(c, d.ProfileMetricCondition):
        window = relative_window(c.timeframe_filter)
        if window is None:
            return []
        events = Items(
            select(Event.profile_id, Event.time, Event.value).where(*sql.metric_events(ctx, c)),
            Event.profile_id,
            Event.time,
            Event.value,
        )
        f = c.measurement_filter
        return [Measure([events], window, _measurement_test(f), c.measurement == "sum", f.value)]
    if isinstance(c, d.ProfileMetricFunnelCondition):
        window = relative_window(c.timeframe_filter)
        if window is None:
            return []
        started = Items(
            select(Event.profile_id, Event.time, Event.value).where(*sql.metric_events(ctx, c.steps[0])),
            Event.profile_id,
            Event.time,
            Event.value,
        )
        return [Crossings([started], window)]
    if isinstance(c, d.ProfileGroupMembershipCondition):
        window = relative_window(c.timeframe_filter)
        if window is None:
            return []
        lists = select(ListMember.profile_id, ListMember.joined_group_at, null()).where(
            ListMember.account_id == ctx.account_id, ListMember.list_id.in_(c.group_ids)
        )
        segments = select(SegmentMember.profile_id, SegmentMember.joined_group_at, null()).where(
            SegmentMember.account_id == ctx.account_id, SegmentMember.segment_id.in_(c.group_ids)
        )
        sources = [
            Items(lists, ListMember.profile_id, ListMember.joined_group_at),
            Items(segments, SegmentMember.profile_id, SegmentMember.joined_group_at),
        ]
        return [Measure(sources, window, _at_least_one)]
    if isinstance(c, d.ProfileMarketingConsentCondition):
        return _consent_parts(ctx, c)
    return []


def _measurement_test(f: d.NumericFilter) -> Callable[[Any], bool]:
    if f.operator == "not-equals":
        return lambda measured: bool(measured != f.value)
    return lambda measured: bool(sql.compare(measured, f.operator, f.value))


def _property_parts(ctx: sql.Context, c: d.ProfilePropertyCondition) -> list[Part]:
    f = c.filter
    value = sql.profile_value(ctx, c.property)
    if value.instant is not None and isinstance(f, sql.DAY_FILTERS):
        value = sql.day_value(ctx, value.instant)
    if value.instant is not None:
        window = relative_window(f)
        if window is None:
            return []
        column = value.instant
        stmt = select(Profile.id, column, null()).where(
            Profile.account_id == ctx.account_id, column.is_not(None)
        )
        return [Measure([Items(stmt, Profile.id, column)], window, _at_least_one)]
    if isinstance(f, d.AnniversaryDateFilter):
        return [Anniversary(ctx.account_id, value, f.operator == "anniversary-month")]
    if isinstance(f, d.RelativeAnniversaryDateFilter):
        return [RelativeAnniversary(ctx.account_id, value, f)]
    window = relative_window(f)
    return [DayWindow(ctx.account_id, value, window)] if window is not None else []


def _consent_parts(ctx: sql.Context, c: d.ProfileMarketingConsentCondition) -> list[Part]:
    channel = CHANNELS[c.consent.channel]
    found: list[Part] = []
    for item in c.consent.consent_status.filters or []:
        field = item.get("field")
        raw = item.get("filter") or {}
        if field not in ("status_date", *SUPPRESSION_FIELDS) or raw.get("type") != "date":
            continue
        if field != "status_date" and channel is not Channel.EMAIL:
            continue  # the compiler refuses it
        try:
            window = relative_window(DATE_FILTER.validate_python(raw))
        except ValidationError:
            continue  # the compiler refuses it
        if window is None:
            continue
        stmt: Select[Any]
        if field == "status_date":
            stmt = select(Subscription.profile_id, Subscription.consent_timestamp, null()).where(
                Subscription.account_id == ctx.account_id,
                Subscription.channel == channel.value,
                Subscription.purpose == Purpose.MARKETING.value,
                Subscription.consent_timestamp.is_not(None),
            )
            source = Items(stmt, Subscription.profile_id, Subscription.consent_timestamp)
        else:
            stmt = select(EmailSuppression.profile_id, EmailSuppression.timestamp, null()).where(
                and_(
                    EmailSuppression.account_id == ctx.account_id,
                    EmailSuppression.reason == SUPPRESSION_FIELDS[field],
                )
            )
            source = Items(stmt, EmailSuppression.profile_id, EmailSuppression.timestamp)
        found.append(Measure([source], window, _at_least_one))
    return found
