"""Next-change instants against the brute-force evaluator: on random data and definitions, the
membership of no profile changes before its stored instant (and, for one exact condition, it
changes at that instant)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conftest import make_account
from tests.segments import brute
from tests.segments.test_compiler_vs_brute import property_condition
from tidings.db.ids import ulid
from tidings.events.metrics import MetricKey
from tidings.events.store import NewEvent, write_events
from tidings.events.tables import Event, Metric
from tidings.lists.tables import List, ListMember
from tidings.profiles.tables import Profile
from tidings.segments import definition as d
from tidings.segments import instants, sql
from tidings.segments.definition import SegmentDefinition

NOW = dt.datetime(2026, 6, 15, 12, 0, 0, 250000, tzinfo=dt.UTC)
MICRO = dt.timedelta(microseconds=1)
DAYS = 800  # day boundaries looked at: anniversaries of 29 February come back within that
DATES = [
    "2026-06-10",
    "2026-06-15",
    "2026-06-16T08:00:00Z",
    "2025-06-15",
    "2026-07-01",
    "2024-02-29",
    "2026-13-01",
]

relative = st.one_of(
    st.builds(
        lambda op, q, u: {"type": "date", "operator": op, "quantity": q, "unit": u},
        st.sampled_from(["in-the-last", "at-least", "in-the-next"]),
        st.integers(0, 40),
        st.sampled_from(["hour", "day", "week"]),
    ),
    st.builds(
        lambda a, b, u: {"type": "date", "operator": "between", "start": a, "end": b, "unit": u},
        st.integers(0, 30),
        st.integers(0, 30),
        st.sampled_from(["hour", "day", "week"]),
    ),
)
day_relative = st.one_of(
    relative,
    st.builds(
        lambda op: {"type": "date", "operator": op}, st.sampled_from(["anniversary", "anniversary-month"])
    ),
    st.builds(
        lambda op, unit, n: {"type": "date", "operator": op, "unit": unit, "quantity": n},
        st.sampled_from(["anniversary-last", "anniversary-next"]),
        st.sampled_from(["hour", "day", "week"]),
        st.integers(0, 60),
    ),
)


def funnel_condition(metric_ids: list[str]) -> Any:
    step = st.builds(
        lambda m, exists: {"metric_exists": exists, "metric_id": m},
        st.sampled_from(metric_ids),
        st.booleans(),
    )
    return st.builds(
        lambda first, steps, tf, window: {
            "type": "profile-metric-funnel",
            "timeframe_filter": tf,
            "completion_window_seconds": window,
            "steps": [{**first, "metric_exists": True}, *steps],
        },
        step,
        st.lists(step, max_size=2),
        st.builds(
            lambda op, q, u: {"type": "date", "operator": op, "quantity": q, "unit": u},
            st.sampled_from(["in-the-last", "at-least"]),
            st.integers(0, 40),
            st.sampled_from(["hour", "day", "week"]),
        ),
        st.sampled_from([None, "HOURS_1", "DAYS_1"]),
    )


def metric_condition(metric_ids: list[str]) -> Any:
    return st.builds(
        lambda m, how, op, v, tf: {
            "type": "profile-metric",
            "metric_id": m,
            "measurement": how,
            "measurement_filter": {"type": "numeric", "operator": op, "value": v},
            "timeframe_filter": tf,
        },
        st.sampled_from(metric_ids),
        st.sampled_from(["count", "count", "sum"]),
        st.sampled_from(
            [
                "equals",
                "not-equals",
                "greater-than",
                "greater-than-or-equal",
                "less-than",
                "less-than-or-equal",
            ]
        ),
        st.sampled_from([0, 1, 2, 3, 2.5, 11]),
        relative,
    )


timed_property = st.one_of(
    st.builds(lambda f: {"type": "profile-property", "property": "created", "filter": f}, day_relative),
    st.builds(
        lambda f: {"type": "profile-property", "property": "properties['d']", "filter": f}, day_relative
    ),
)
timed_group = st.builds(
    lambda ids, tf: {
        "type": "profile-group-membership",
        "is_member": True,
        "group_ids": ids,
        "timeframe_filter": tf,
    },
    st.lists(st.sampled_from(["Lst001", "Lst002"]), min_size=1, max_size=2, unique=True),
    relative,
)
people = st.lists(
    st.tuples(
        st.integers(-2000, 300),  # created, hours from NOW
        st.one_of(st.none(), st.sampled_from(DATES)),  # properties['d']
        st.sets(st.integers(0, 1)),
        st.integers(-800, 100),  # list joins, hours from NOW
    ),
    min_size=1,
    max_size=5,
)
happenings = st.lists(
    st.tuples(
        st.integers(0, 4),
        st.integers(0, 1),
        st.integers(-2000, 800),  # hours from NOW (future events enter windows later)
        st.sampled_from([None, 1.0, 2.5, 10.0]),
    ),
    max_size=14,
)


def _windows(definition: SegmentDefinition) -> set[dt.timedelta]:
    """Every offset a window edge of the definition has from its instant N (and 0 for today)."""
    offsets = {dt.timedelta(0)}
    for _, _, cond in definition.conditions():
        f = getattr(cond, "timeframe_filter", None) or getattr(cond, "filter", None)
        if isinstance(f, d.RelativeAnniversaryDateFilter):
            # the window of days moves at each midnight and when now -/+ N units crosses one
            span = sql.UNITS[f.unit] * f.quantity
            offsets.update({span, -span})
        window = instants.relative_window(f)
        if window is not None:
            offsets.add(window.hi)
            if window.lo is not None:
                offsets.add(window.lo)
    return offsets


def _candidates(definition: SegmentDefinition, dated: list[dt.datetime]) -> list[dt.datetime]:
    """Every instant after NOW at which some condition's truth could change: each dated item
    entering (t - hi) or leaving (t - lo + 1 µs) a window, and each day boundary of N + offset."""
    offsets = _windows(definition)
    found = set()
    for at in dated:
        for offset in offsets:
            found.update({at - offset, at - offset + MICRO})
    if not _by_day(definition):
        return sorted(x for x in found if x > NOW)
    start = dt.datetime.combine(NOW.date(), dt.time(), dt.UTC)
    for day in range(-300, DAYS):
        for offset in offsets:
            found.add(start + dt.timedelta(days=day) - offset)
    return sorted(x for x in found if x > NOW)


def _by_day(definition: SegmentDefinition) -> bool:
    """Whether a condition compares a date by day (its truth moves at midnights): any date filter
    on a custom property, the calendar and anniversary operators on a standard date."""
    day_filters = (d.CalendarDateFilter, d.AnniversaryDateFilter, d.RelativeAnniversaryDateFilter)
    return any(
        isinstance(cond, d.ProfilePropertyCondition)
        and getattr(cond.filter, "type", None) == "date"
        and (cond.property.startswith("properties[") or isinstance(cond.filter, day_filters))
        for _, _, cond in definition.conditions()
    )


EXACT = (d.ProfileGroupMembershipCondition,)


def _exact(definition: SegmentDefinition) -> bool:
    """One condition whose instant is computed exactly (not conservatively)."""
    conditions = definition.conditions()
    if len(conditions) != 1:
        return False
    cond = conditions[0][2]
    if isinstance(cond, d.ProfileMetricCondition):
        return cond.measurement == "count"
    if isinstance(cond, d.ProfilePropertyCondition):
        return cond.property == "created"
    return isinstance(cond, EXACT)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), folks=people, things=happenings)
def test_no_change_before_the_stored_instant(db, data, folks, things) -> None:  # type: ignore[no-untyped-def]
    account = make_account(db)
    profiles: list[brute.P] = []
    with db.write() as session:
        for list_id in ("Lst001", "Lst002"):
            session.add(List(account_id=account.id, id=list_id, name=list_id, opt_in_process="single_opt_in"))
        for created_h, day, joined, joined_h in folks:
            props = {} if day is None else {"d": day}
            p = brute.P(ulid(), None, NOW + dt.timedelta(hours=created_h, microseconds=created_h % 7), props)
            session.add(
                Profile(
                    account_id=account.id, id=p.id, created=p.created, updated=p.created, properties=props
                )
            )
            for index in joined:
                list_id = ("Lst001", "Lst002")[index]
                p.lists[list_id] = NOW + dt.timedelta(hours=joined_h)
                session.add(
                    ListMember(
                        account_id=account.id,
                        list_id=list_id,
                        profile_id=p.id,
                        joined_group_at=p.lists[list_id],
                    )
                )
            profiles.append(p)
        session.flush()
        write_events(
            session,
            account.id,
            [
                NewEvent(
                    profile_id=profiles[who].id,
                    metric=MetricKey(["Placed Order", "Viewed Product"][metric]),
                    time=NOW + dt.timedelta(hours=hours),
                    value=amount,
                    unique_id=ulid(),
                )
                for who, metric, hours, amount in things
                if who < len(profiles)
            ],
        )
    events: list[brute.E] = []
    with db.read() as session:
        metric_ids = sorted(
            session.execute(select(Metric.id).where(Metric.account_id == account.id)).scalars()
        )
        for row in session.execute(select(Event).where(Event.account_id == account.id)).scalars():
            events.append(brute.E(row.profile_id, row.metric_id, row.time, row.value, row.properties))
    timed = [timed_property, timed_group] + (
        [metric_condition(metric_ids), funnel_condition(metric_ids)] if metric_ids else []
    )
    condition = st.one_of(*timed, *timed, property_condition)
    groups = data.draw(st.lists(st.lists(condition, min_size=1, max_size=2), min_size=1, max_size=2))
    definition = SegmentDefinition.model_validate({"condition_groups": [{"conditions": g} for g in groups]})
    with db.read() as session:
        ctx = sql.Context(session, account.id, NOW)
        due = instants.next_changes(session, instants.parts(ctx, definition), None, NOW)

    dated = [e.time for e in events] + [p.created for p in profiles]
    dated += [at for p in profiles for at in p.lists.values()]
    before = brute.members(definition, profiles, events, NOW)
    first_change: dict[str, dt.datetime] = {}
    for at in _candidates(definition, dated):
        if len(first_change) == len(profiles):
            break
        now_in = brute.members(definition, profiles, events, at)
        for pid in (now_in ^ before) - set(first_change):
            first_change[pid] = at
    for p in profiles:
        changes, stored = first_change.get(p.id), due.get(p.id)
        assert stored is None or stored > NOW
        if changes is not None:
            assert stored is not None and stored <= changes, (p.id, groups, stored, changes)
        if _exact(definition):
            assert stored == changes, (p.id, groups, stored, changes)
