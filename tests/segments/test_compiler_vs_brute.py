"""The compiled SQL of random definitions against the plain-Python evaluator, on random data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conftest import make_account
from tests.segments import brute
from tidings.db.ids import ulid
from tidings.events.metrics import MetricKey
from tidings.events.store import NewEvent, write_events
from tidings.lists.tables import List, ListMember
from tidings.profiles.tables import Profile
from tidings.segments import compiler, sql
from tidings.segments.definition import SegmentDefinition

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
WORDS = ["", "a", "ab", "Ab", "b", "abc", "xa"]
DATES = [
    "2026-06-10",
    "2026-05-01T10:00:00Z",
    "2025-06-15",
    "2026-06-15",
    "2026-07-01",
    "2026-06-14T23:00:00",
]

scalar = st.one_of(
    st.none(),
    st.sampled_from(WORDS),
    st.integers(-3, 3),
    st.sampled_from([0.5, 1.5, -2.5]),
    st.booleans(),
    st.sampled_from(["true", "False"]),
    st.sampled_from(DATES),
)
value = st.one_of(
    scalar,
    st.lists(st.one_of(st.sampled_from(["a", "b", "ab"]), st.integers(0, 3), st.booleans()), max_size=3),
)
props = st.dictionaries(st.sampled_from(["a", "b"]), value, max_size=2)

string_f = st.one_of(
    st.builds(
        lambda op, v: {"type": "string", "operator": op, "value": v},
        st.sampled_from(
            [
                "equals",
                "not-equals",
                "contains",
                "not-contains",
                "starts-with",
                "not-starts-with",
                "ends-with",
                "not-ends-with",
            ]
        ),
        st.sampled_from(["a", "ab", "B", ""]),
    ),
    st.builds(
        lambda op, v: {"type": "string", "operator": op, "value": v},
        st.sampled_from(["regex", "nregex"]),
        st.sampled_from(["^a", "b$", "a.b", "A|b", "^[ab]+$", "\\d", "(ab)?B"]),
    ),
    st.builds(
        lambda op, v: {"type": "string", "operator": op, "value": v},
        st.sampled_from(["in", "not-in"]),
        st.lists(st.sampled_from(["a", "AB", "b"]), max_size=2),
    ),
)
numeric_f = st.builds(
    lambda op, v: {"type": "numeric", "operator": op, "value": v},
    st.sampled_from(
        ["equals", "not-equals", "greater-than", "greater-than-or-equal", "less-than", "less-than-or-equal"]
    ),
    st.sampled_from([-1, 0, 1, 0.5, 2]),
)
boolean_f = st.builds(lambda v: {"type": "boolean", "operator": "equals", "value": v}, st.booleans())
existence_f = st.builds(
    lambda op: {"type": "existence", "operator": op}, st.sampled_from(["is-set", "not-set"])
)
iso = st.sampled_from(
    ["2026-06-10T00:00:00+00:00", "2026-06-15T12:00:00Z", "2025-01-01T00:00:00Z", "2026-06-14T12:00:00Z"]
)
instant_date_f = st.one_of(
    st.builds(
        lambda op, d: {"type": "date", "operator": op, "date": d}, st.sampled_from(["after", "before"]), iso
    ),
    st.builds(lambda a, b: {"type": "date", "operator": "between-static", "start": a, "end": b}, iso, iso),
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
        st.sampled_from(["day", "week"]),
    ),
)
day_date_f = st.one_of(
    instant_date_f,
    st.builds(lambda m: {"type": "date", "operator": "calendar-month", "value": m}, st.integers(1, 12)),
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
list_f = st.one_of(
    st.builds(
        lambda op, v: {"type": "list", "operator": op, "value": v},
        st.sampled_from(["contains", "not-contains"]),
        st.sampled_from(["a", 1, "1", "true"]),
    ),
    st.builds(
        lambda op, v: {"type": "list", "operator": op, "value": v},
        st.sampled_from(["length-equals", "length-greater-than", "length-less-than-or-equal"]),
        st.integers(0, 3),
    ),
)
metric_list_f = st.one_of(
    st.builds(
        lambda op, v: {"type": "list", "operator": op, "value": v},
        st.sampled_from(["contains-all", "contains-any", "not-contains-all", "not-contains-any"]),
        st.lists(st.sampled_from(["a", "b", "1"]), max_size=2),
    ),
    st.builds(
        lambda op, v: {"type": "list", "operator": op, "value": v},
        st.sampled_from(["contains-substring", "not-contains-substring"]),
        st.sampled_from(["a", "B"]),
    ),
)

property_condition = st.one_of(
    st.builds(
        lambda name, f: {"type": "profile-property", "property": f"properties['{name}']", "filter": f},
        st.sampled_from(["a", "b"]),
        st.one_of(string_f, numeric_f, boolean_f, existence_f, day_date_f, list_f),
    ),
    st.builds(
        lambda f: {"type": "profile-property", "property": "first_name", "filter": f},
        st.one_of(string_f, existence_f),
    ),
    st.builds(
        lambda f: {"type": "profile-property", "property": "created", "filter": f},
        st.one_of(day_date_f, existence_f),
    ),
)


def metric_condition(metric_ids: list[str]) -> Any:
    timeframe = st.one_of(st.just({"type": "date", "operator": "alltime"}), instant_date_f)
    metric_filter = st.builds(
        lambda f: {"property": "p", "filter": f},
        st.one_of(
            string_f,
            numeric_f,
            boolean_f,
            existence_f,
            list_f.filter(lambda f: "length" in f["operator"]),
            metric_list_f,
        ),
    )
    return st.builds(
        lambda m, how, mf, tf, filters: {
            "type": "profile-metric",
            "metric_id": m,
            "measurement": how,
            "measurement_filter": mf,
            "timeframe_filter": tf,
            "metric_filters": filters,
        },
        st.sampled_from(metric_ids),
        st.sampled_from(["count", "sum"]),
        st.builds(
            lambda op, v: {"type": "numeric", "operator": op, "value": v},
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
            st.sampled_from([0, 1, 2, 2.5, 11]),
        ),
        timeframe,
        st.one_of(st.none(), st.lists(metric_filter, max_size=2)),
    )


funnel_timeframe = st.one_of(
    st.builds(lambda a, b: {"type": "date", "operator": "between-static", "start": a, "end": b}, iso, iso),
    st.builds(
        lambda op, q, u: {"type": "date", "operator": op, "quantity": q, "unit": u},
        st.sampled_from(["in-the-last", "at-least"]),
        st.integers(0, 40),
        st.sampled_from(["hour", "day", "week"]),
    ),
    st.builds(
        lambda a, b, u: {"type": "date", "operator": "between", "start": a, "end": b, "unit": u},
        st.integers(0, 30),
        st.integers(0, 30),
        st.sampled_from(["day", "week"]),
    ),
)


def funnel_condition(metric_ids: list[str]) -> Any:
    step = st.builds(
        lambda m, exists, filters: {"metric_exists": exists, "metric_id": m, "metric_filters": filters},
        st.sampled_from(metric_ids),
        st.booleans(),
        st.one_of(
            st.none(), st.lists(st.builds(lambda f: {"property": "p", "filter": f}, numeric_f), max_size=1)
        ),
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
        funnel_timeframe,
        st.sampled_from([None, "HOURS_1", "DAYS_1", "DAYS_30"]),
    )


def group_condition(list_ids: list[str]) -> Any:
    return st.one_of(
        st.builds(
            lambda ids, tf: {
                "type": "profile-group-membership",
                "is_member": True,
                "group_ids": ids,
                "timeframe_filter": tf,
            },
            st.lists(st.sampled_from(list_ids), min_size=1, max_size=2, unique=True),
            st.one_of(st.none(), instant_date_f),
        ),
        st.builds(
            lambda ids: {"type": "profile-group-membership", "is_member": False, "group_ids": ids},
            st.lists(st.sampled_from(list_ids), min_size=1, max_size=2, unique=True),
        ),
    )


profile_data = st.lists(
    st.tuples(
        st.one_of(st.none(), st.sampled_from(WORDS[1:])),
        st.integers(-2000, 2000),
        props,
        st.sets(st.integers(0, 1)),
        st.integers(-800, 0),
    ),
    min_size=1,
    max_size=6,
)
event_data = st.lists(
    st.tuples(
        st.integers(0, 5),
        st.integers(0, 1),
        st.integers(-2000, 800),
        st.sampled_from([None, 1.0, 2.5, 10.0]),
        st.one_of(st.just({}), st.builds(lambda v: {"p": v}, value)),
    ),
    max_size=12,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), people=profile_data, happenings=event_data)
def test_compiled_query_matches_brute_force(db, data, people, happenings) -> None:  # type: ignore[no-untyped-def]
    account = make_account(db)
    list_ids = ["Lst001", "Lst002"]
    profiles: list[brute.P] = []
    events: list[brute.E] = []
    with db.write() as session:
        for list_id in list_ids:
            session.add(
                List(
                    account_id=account.id,
                    id=list_id,
                    name=list_id,
                    opt_in_process="single_opt_in",
                    created=NOW,
                    updated=NOW,
                )
            )
        for first_name, created_h, properties, joined, joined_h in people:
            p = brute.P(ulid(), first_name, NOW + dt.timedelta(hours=created_h), properties)
            session.add(
                Profile(
                    account_id=account.id,
                    id=p.id,
                    first_name=first_name,
                    created=p.created,
                    updated=p.created,
                    properties=properties,
                )
            )
            for index in joined:
                p.lists[list_ids[index]] = NOW + dt.timedelta(hours=joined_h)
                session.add(
                    ListMember(
                        account_id=account.id,
                        list_id=list_ids[index],
                        profile_id=p.id,
                        joined_group_at=p.lists[list_ids[index]],
                    )
                )
            profiles.append(p)
        session.flush()
        written = []
        for who, metric, hours, amount, eprops in happenings:
            if who >= len(profiles):
                continue
            written.append(
                NewEvent(
                    profile_id=profiles[who].id,
                    metric=MetricKey(["Placed Order", "Viewed Product"][metric]),
                    time=NOW + dt.timedelta(hours=hours),
                    properties=eprops,
                    value=amount,
                    unique_id=ulid(),
                )
            )
        write_events(session, account.id, written)
        write_events(
            session,
            account.id,
            [
                NewEvent(
                    profile_id=profiles[0].id,
                    metric=MetricKey(n),
                    time=NOW - dt.timedelta(days=900),
                    unique_id=ulid(),
                )
                for n in ("Placed Order", "Viewed Product")
            ],
        )
    from tidings.events.tables import Event, Metric

    with db.read() as session:
        metric_ids = dict(
            session.execute(select(Metric.name, Metric.id).where(Metric.account_id == account.id)).all()
        )
        for row in session.execute(select(Event).where(Event.account_id == account.id)).scalars():
            events.append(brute.E(row.profile_id, row.metric_id, row.time, row.value, row.properties))
    conditions = st.one_of(
        property_condition,
        metric_condition(sorted(metric_ids.values())),
        funnel_condition(sorted(metric_ids.values())),
        group_condition(list_ids),
    )
    groups = data.draw(st.lists(st.lists(conditions, min_size=1, max_size=3), min_size=1, max_size=3))
    definition = SegmentDefinition.model_validate({"condition_groups": [{"conditions": g} for g in groups]})
    expected = brute.members(definition, profiles, events, NOW)
    with db.read() as session:
        # Both shapes: per profile (incremental updates) and over every profile (full builds).
        for full in (False, True):
            ctx = sql.Context(session, account.id, NOW, full=full)
            predicate = compiler.compile_definition(ctx, definition)
            got = set(
                session.execute(
                    select(Profile.id).where(Profile.account_id == account.id, predicate)
                ).scalars()
            )
            assert got == expected, (full, groups)
