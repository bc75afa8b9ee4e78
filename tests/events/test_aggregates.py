"""query_metric_aggregates through the SDK, and against a brute-force computation on random events."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_client.exceptions import ApiException, BadRequestException, NotFoundException

from tests.conftest import AccountKeys, make_account
from tests.events.factories import make_events, metric_id
from tidings.db.ids import ulid
from tidings.events import aggregates
from tidings.events.schemas import MetricAggregateAttributes

UTC = dt.UTC
BASE = dt.datetime(2026, 3, 7, 0, 0, tzinfo=UTC)  # Berlin and New York change clocks in March


def _query(metric: str, start: str, end: str, **extra) -> dict:
    return {
        "data": {
            "type": "metric-aggregate",
            "attributes": {
                "metric_id": metric,
                "measurements": extra.pop("measurements", ["count", "sum_value", "unique"]),
                "interval": extra.pop("interval", "day"),
                "filter": [
                    f"greater-or-equal(datetime,{start})",
                    f"less-than(datetime,{end})",
                    *extra.pop("filters", []),
                ],
                "timezone": extra.pop("timezone", "UTC"),
                **extra,
            },
        }
    }


def test_sdk_daily_counts_sums_and_uniques(db, sdk, account: AccountKeys) -> None:
    alice, bob = ulid(), ulid()
    make_events(
        db,
        account.id,
        [
            {"profile_id": alice, "time": BASE + dt.timedelta(hours=1), "value": 10},
            {"profile_id": alice, "time": BASE + dt.timedelta(hours=2), "value": 5.5},
            {"profile_id": bob, "time": BASE + dt.timedelta(days=1, hours=3), "value": 1},
            {"profile_id": bob, "time": BASE + dt.timedelta(days=5)},  # outside the range
        ],
    )
    metric = metric_id(db, account.id, "Placed Order")
    result = sdk.Metrics.query_metric_aggregates(_query(metric, "2026-03-07T00:00:00", "2026-03-10T00:00:00"))
    attrs = result.data.attributes
    assert [d.date().isoformat() for d in attrs.dates] == ["2026-03-07", "2026-03-08", "2026-03-09"]
    (row,) = attrs.data
    assert row.dimensions == []
    assert row.measurements == {"count": [2, 1, 0], "sum_value": [15.5, 1.0, 0], "unique": [1, 1, 0]}


def test_sdk_by_property_and_property_filter(db, sdk, account: AccountKeys) -> None:
    make_events(
        db,
        account.id,
        [
            {"time": BASE, "properties": {"$message": "A", "Campaign Name": "Spring"}},
            {"time": BASE, "properties": {"$message": "A", "Campaign Name": "Spring"}},
            {"time": BASE, "properties": {"$message": "B", "Campaign Name": "Fall"}},
        ],
    )
    metric = metric_id(db, account.id, "Placed Order")
    body = _query(
        metric, "2026-03-07T00:00:00", "2026-03-08T00:00:00", by=["$message"], measurements=["count"]
    )
    rows = sdk.Metrics.query_metric_aggregates(body).data.attributes.data
    assert sorted((r.dimensions, r.measurements["count"]) for r in rows) == [(["A"], [2]), (["B"], [1])]
    body = _query(
        metric,
        "2026-03-07T00:00:00",
        "2026-03-08T00:00:00",
        measurements=["count"],
        filters=['equals(Campaign Name,"Fall")'],
    )
    (row,) = sdk.Metrics.query_metric_aggregates(body).data.attributes.data
    assert row.measurements["count"] == [1]


def test_timezone_buckets_are_local_days(db, sdk, account: AccountKeys) -> None:
    # 03:00 UTC on the 8th is still the 7th in New York.
    make_events(db, account.id, [{"time": BASE + dt.timedelta(days=1, hours=3)}])
    metric = metric_id(db, account.id, "Placed Order")
    body = _query(
        metric,
        "2026-03-07T00:00:00",
        "2026-03-09T00:00:00",
        timezone="America/New_York",
        measurements=["count"],
    )
    attrs = sdk.Metrics.query_metric_aggregates(body).data.attributes
    assert [d.isoformat() for d in attrs.dates] == ["2026-03-07T00:00:00-05:00", "2026-03-08T00:00:00-05:00"]
    assert attrs.data[0].measurements["count"] == [1, 0]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"filter": ["greater-or-equal(datetime,2026-01-01T00:00:00)"]}, BadRequestException),
        ({"timezone": "Mars/Base"}, BadRequestException),
        ({"metric_id": "nope00"}, NotFoundException),
        ({"filter": ["equals(datetime"]}, BadRequestException),
        (
            {
                "filter": [
                    "greater-or-equal(datetime,2026-01-01T00:00:00)",
                    "starts-with(datetime,2026-01-01T00:00:00)",
                ]
            },
            BadRequestException,
        ),
        # A calendar past year 9999 or before year 1 (it was a 500).
        (
            {
                "filter": [
                    "greater-or-equal(datetime,9999-12-30T00:00:00)",
                    "less-than(datetime,9999-12-31T23:59:59)",
                ]
            },
            BadRequestException,
        ),
        (
            {
                "filter": [
                    "greater-or-equal(datetime,0001-01-01T00:00:00+05:00)",
                    "less-than(datetime,2026-01-01T00:00:00)",
                ]
            },
            BadRequestException,
        ),
        (
            {
                "filter": [
                    "greater-or-equal(datetime,9999-12-31T23:00:00)",
                    "less-or-equal(datetime,9999-12-31T23:59:59.999999)",
                ],
                "interval": "hour",
            },
            BadRequestException,
        ),
        ({"timezone": "Factory"}, BadRequestException),
        ({"timezone": "localtime"}, BadRequestException),
        ({"timezone": ""}, BadRequestException),
        ({"page_cursor": "eyJvZmZzZXQiOiAtMX0"}, BadRequestException),  # {"offset": -1}
        ({"page_cursor": "eyJvZmZzZXQiOiAiMyJ9"}, BadRequestException),  # {"offset": "3"}
    ],
)
def test_bad_queries_are_4xx(db, client, account: AccountKeys, change: dict, error: type) -> None:
    make_events(db, account.id, [{"time": BASE}])
    body = _query(metric_id(db, account.id, "Placed Order"), "2026-03-07T00:00:00", "2026-03-09T00:00:00")
    body["data"]["attributes"].update(change)
    response = client.post("/api/metric-aggregates", json=body, headers=account.headers())
    expected = 404 if error is NotFoundException else 400
    assert response.status_code == expected, response.text
    assert issubclass(error, ApiException)


@pytest.mark.parametrize(
    ("bounds", "count"),
    [
        (["greater-or-equal(datetime,2026-03-07T10:00:00)", "less-than(datetime,2026-03-07T11:00:00)"], 3),
        (["greater-than(datetime,2026-03-07T10:00:00)", "less-than(datetime,2026-03-07T11:00:00)"], 0),
        (
            ["greater-or-equal(datetime,2026-03-07T09:00:00)", "less-or-equal(datetime,2026-03-07T10:00:00)"],
            3,
        ),
        (["greater-than(datetime,2026-03-07T10:00:00)", "less-or-equal(datetime,2026-03-07T11:00:00)"], 1),
        (["equals(datetime,2026-03-07T10:00:00)"], 3),
        # Every bound applies, whatever its order: the range is what they all allow.
        (
            [
                "greater-or-equal(datetime,2026-03-07T10:30:00)",
                "less-than(datetime,2026-03-08T00:00:00)",
                "greater-or-equal(datetime,2026-03-01T00:00:00)",
            ],
            1,
        ),
        (
            [
                "greater-or-equal(datetime,2026-03-07T00:00:00)",
                "less-than(datetime,2026-03-07T10:30:00)",
                "less-than(datetime,2026-03-08T00:00:00)",
            ],
            3,
        ),
    ],
)
def test_every_datetime_bound_means_what_it_says(db, sdk, account: AccountKeys, bounds, count) -> None:
    at_ten = BASE + dt.timedelta(hours=10)
    make_events(db, account.id, [{"time": at_ten}] * 3 + [{"time": at_ten + dt.timedelta(hours=1)}])
    metric = metric_id(db, account.id, "Placed Order")
    body = _query(metric, "2026-03-07T00:00:00", "2026-03-08T00:00:00", measurements=["count"])
    body["data"]["attributes"]["filter"] = bounds
    attrs = sdk.Metrics.query_metric_aggregates(body).data.attributes
    assert sum(attrs.data[0].measurements["count"]) == count


ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Europe/Berlin"]


def _key(when: dt.datetime, interval: str, tz: zoneinfo.ZoneInfo) -> object:
    local = when.astimezone(tz)
    if interval == "hour":
        return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    day = local.date()
    if interval == "week":
        return day - dt.timedelta(days=day.weekday())
    if interval == "month":
        return (day.year, day.month)
    return day


events_strategy = st.lists(
    st.tuples(
        st.integers(0, 40 * 24 * 60),  # minutes after BASE - 5 days
        st.sampled_from(["p1", "p2", "p3"]),
        st.one_of(st.none(), st.integers(0, 100)),
        st.sampled_from(["A", "B", None]),
    ),
    max_size=40,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    events=events_strategy,
    interval=st.sampled_from(["hour", "day", "week", "month"]),
    zone=st.sampled_from(ZONES),
    start_min=st.integers(0, 20 * 24 * 60),
    length_min=st.integers(60, 20 * 24 * 60),
    by=st.booleans(),
)
def test_matches_brute_force(db, events, interval, zone, start_min, length_min, by) -> None:
    if interval == "hour":
        length_min = min(length_min, 3 * 24 * 60)
    account = make_account(db)
    origin = BASE - dt.timedelta(days=5)
    profiles = {name: ulid() for name in ("p1", "p2", "p3")}
    make_events(
        db,
        account.id,
        [
            {
                "time": origin + dt.timedelta(minutes=m),
                "profile_id": profiles[p],
                "value": v,
                "properties": {} if c is None else {"Channel": c},
            }
            for m, p, v, c in events
        ]
        or [{"time": origin - dt.timedelta(days=30), "metric": "Placed Order", "unique_id": "seed"}],
    )
    tz = zoneinfo.ZoneInfo(zone)
    start = origin + dt.timedelta(minutes=start_min)
    end = start + dt.timedelta(minutes=length_min)
    attrs = MetricAggregateAttributes(
        metric_id=metric_id(db, account.id, "Placed Order"),
        measurements=["count", "sum_value", "unique"],
        interval=interval,
        filter=[f"greater-or-equal(datetime,{start.isoformat()})", f"less-than(datetime,{end.isoformat()})"],
        timezone=zone,
        by=["Channel"] if by else None,
        page_size=100,
    )
    with db.read() as session:
        result = aggregates.query(session, account.id, attrs)

    expected: dict[tuple, dict] = defaultdict(lambda: {"count": 0, "sum_value": 0.0, "unique": set()})
    for m, p, v, c in events:
        when = (origin + dt.timedelta(minutes=m)).replace(second=0)
        if start <= when < end:
            cell = expected[(("" if c is None else c,) if by else (), _key(when, interval, tz))]
            cell["count"] += 1
            cell["sum_value"] += v or 0
            cell["unique"].add(p)

    keys = [_key(d, interval, tz) for d in result.dates]
    assert len(set(keys)) == len(keys), "one bucket per calendar unit"
    assert keys[0] == _key(start, interval, tz)
    got = {}
    for row in result.rows:
        for i, key in enumerate(keys):
            if row["measurements"]["count"][i]:
                got[(tuple(row["dimensions"]), key)] = (
                    row["measurements"]["count"][i],
                    row["measurements"]["sum_value"][i],
                    row["measurements"]["unique"][i],
                )
    want = {k: (c["count"], c["sum_value"], len(c["unique"])) for k, c in expected.items()}
    assert got == want


def test_sort_by_a_measurement_on_an_empty_result(db, sdk, account: AccountKeys) -> None:
    # A valid sort stays valid when no event falls in the range (it was a 400).
    make_events(db, account.id, [{"time": BASE - dt.timedelta(days=30)}])
    metric = metric_id(db, account.id, "Placed Order")
    for by in (None, ["$value_currency"]):
        body = _query(
            metric, "2026-03-07T00:00:00", "2026-03-09T00:00:00", measurements=["count"], sort="-count"
        )
        if by:
            body["data"]["attributes"]["by"] = by
        rows = sdk.Metrics.query_metric_aggregates(body).data.attributes.data
        assert rows == [] if by else [r.measurements["count"] for r in rows] == [[0, 0]]
