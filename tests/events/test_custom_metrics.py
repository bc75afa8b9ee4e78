"""Custom metrics through the SDK, and usable wherever a metric is: aggregates (against a brute
force on random events), segment conditions and flow triggers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_client.exceptions import NotFoundException
from sqlalchemy import select

from tests.conftest import AccountKeys, make_account
from tests.events.factories import make_events, metric_id
from tidings.db.ids import ulid
from tidings.events import aggregates, custom_metrics
from tidings.events.schemas import MetricAggregateAttributes
from tidings.profiles.tables import Profile
from tidings.segments import compiler, sql
from tidings.segments.definition import SegmentDefinition

BASE = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
RANGE = [
    f"greater-or-equal(datetime,{BASE.isoformat()})",
    f"less-than(datetime,{(BASE + dt.timedelta(days=4)).isoformat()})",
]


def _body(name: str, groups: list[dict[str, Any]], method: str = "value") -> dict[str, Any]:
    return {
        "data": {
            "type": "custom-metric",
            "attributes": {
                "name": name,
                "definition": {"aggregation_method": method, "metric_groups": groups},
            },
        }
    }


def _orders(db, account: AccountKeys) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    make_events(
        db,
        account.id,
        [
            {
                "metric": "Placed Order",
                "time": BASE,
                "value": 10,
                "properties": {"Brand": "Acme", "Total": 4},
            },
            {
                "metric": "Placed Order",
                "time": BASE,
                "value": 20,
                "properties": {"Brand": "Other", "Total": 5},
            },
            {"metric": "Shop Order", "time": BASE, "value": 7, "properties": {"Amount": 30}},
        ],
    )
    return metric_id(db, account.id, "Placed Order"), metric_id(db, account.id, "Shop Order")


def _acme(placed: str, shop: str) -> list[dict[str, Any]]:
    return [
        {
            "metric_id": placed,
            "metric_filters": [
                {"property": "Brand", "filter": {"type": "string", "operator": "equals", "value": "Acme"}}
            ],
            "value_property": "$value",
        },
        {"metric_id": shop, "value_property": "Amount"},
    ]


def test_sdk_create_read_update_delete(db, sdk, account: AccountKeys) -> None:  # type: ignore[no-untyped-def]
    placed, shop = _orders(db, account)
    created = sdk.Metrics.create_custom_metric(_body("All revenue", _acme(placed, shop))).data
    assert len(created.id) == 32 and created.attributes.name == "All revenue"
    assert created.attributes.definition.aggregation_method == "value"
    assert [m.id for m in created.relationships.metrics.data] == [placed, shop]

    fetched = sdk.Metrics.get_custom_metric(created.id, include=["metrics"])
    assert {m.id for m in fetched.included} == {placed, shop}
    listed = sdk.Metrics.get_custom_metrics(include=["metrics"])
    assert [c.id for c in listed.data] == [created.id] and len(listed.included) == 2
    sparse = sdk.Metrics.get_custom_metrics(fields_custom_metric=["name"])  # a dict: attributes left out
    assert sparse["data"][0]["attributes"] == {"name": "All revenue"}
    assert [m.id for m in sdk.Metrics.get_metrics_for_custom_metric(created.id).data] == [placed, shop]
    assert [m.id for m in sdk.Metrics.get_metric_ids_for_custom_metric(created.id).data] == [placed, shop]

    patch = {
        "data": {
            "type": "custom-metric",
            "id": created.id,
            "attributes": {
                "name": "Shop only",
                "definition": {"aggregation_method": "count", "metric_groups": [{"metric_id": shop}]},
            },
        }
    }
    updated = sdk.Metrics.update_custom_metric(created.id, patch).data
    assert (
        updated.attributes.name == "Shop only" and updated.attributes.definition.aggregation_method == "count"
    )
    assert [m.id for m in updated.relationships.metrics.data] == [shop]

    sdk.Metrics.delete_custom_metric(created.id)
    with pytest.raises(NotFoundException):
        sdk.Metrics.get_custom_metric(created.id)


def test_bad_definitions_are_400s_with_pointers(db, account: AccountKeys, client, other_account) -> None:  # type: ignore[no-untyped-def]
    placed, shop = _orders(db, account)
    theirs = _orders(db, other_account)[0]

    def post(body: dict[str, Any]) -> list[tuple[int, str, str]]:
        response = client.post("/api/custom-metrics", json=body, headers=account.headers())
        assert response.status_code == 400, response.text
        return [(400, e["source"]["pointer"], e["detail"]) for e in response.json()["errors"]]

    groups = "/data/attributes/definition/metric_groups"
    assert post(_body("x", [{"metric_id": theirs}]))[0][1] == f"{groups}/0/metric_id"
    assert post(_body("x", [{"metric_id": placed}, {"metric_id": placed}]))[0][1] == f"{groups}/1/metric_id"
    bad_filter = [
        {"metric_id": placed, "metric_filters": [{"property": "Brand", "filter": {"type": "nope"}}]}
    ]
    assert post(_body("x", bad_filter))[0][1].startswith(f"{groups}/0/metric_filters/0")
    assert post(_body("x", []))[0][1] == f"{groups}"
    assert (
        post(_body("x", [{"metric_id": shop}], method="sum"))[0][1]
        == "/data/attributes/definition/aggregation_method"
    )
    ok = client.post(
        "/api/custom-metrics", json=_body("Taken", [{"metric_id": shop}]), headers=account.headers()
    )
    assert ok.status_code == 201
    duplicate = post(_body("Taken", [{"metric_id": shop}]))
    assert duplicate[0][1] == "/data/attributes/name"
    wrong_id = client.patch(
        f"/api/custom-metrics/{ok.json()['data']['id']}",
        json={"data": {"type": "custom-metric", "id": "0" * 32, "attributes": {"name": "y"}}},
        headers=account.headers(),
    )
    assert wrong_id.status_code == 409


def test_sdk_unknown_ids_are_404s(sdk) -> None:  # type: ignore[no-untyped-def]
    for bad in ("0" * 32, "nope"):
        with pytest.raises(NotFoundException):
            sdk.Metrics.get_custom_metric(bad)
        with pytest.raises(NotFoundException):
            sdk.Metrics.delete_custom_metric(bad)


def test_aggregates_of_a_custom_metric(db, sdk, account: AccountKeys) -> None:  # type: ignore[no-untyped-def]
    placed, shop = _orders(db, account)
    custom = sdk.Metrics.create_custom_metric(_body("Acme and shop", _acme(placed, shop))).data.id
    query = {
        "data": {
            "type": "metric-aggregate",
            "attributes": {"metric_id": custom, "measurements": ["count", "sum_value"], "filter": RANGE},
        }
    }
    result = sdk.Metrics.query_metric_aggregates(query).data.attributes.data[0].measurements
    # Acme's order (its $value 10) and the shop order (its Amount 30, not its $value).
    assert result["count"][0] == 2 and result["sum_value"][0] == 40
    with pytest.raises(NotFoundException):
        query["data"]["attributes"]["metric_id"] = "f" * 32
        sdk.Metrics.query_metric_aggregates(query)


EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C"]),
        st.integers(0, 95),  # hours after BASE
        st.one_of(st.none(), st.integers(-5, 50)),  # value
        st.sampled_from(["red", "blue", None]),  # Color
        st.integers(0, 3),  # who
    ),
    max_size=25,
)
GROUPS = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C"]),
        st.sampled_from([None, "red", "blue"]),  # a Color filter
        st.sampled_from([None, "$value", "Size"]),
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda g: g[0],
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=EVENTS, groups=GROUPS)
def test_aggregates_equal_the_sum_over_members(db, events, groups) -> None:  # type: ignore[no-untyped-def]
    """count, sum_value and unique of a custom metric, per day, against a brute force over the events."""
    account = make_account(db)
    people = [ulid() for _ in range(4)]
    items = [
        {
            "metric": name,
            "time": BASE + dt.timedelta(hours=hours),
            "value": value,
            "properties": {"Color": color, "Size": (hours % 7)} if color else {"Size": hours % 7},
            "profile_id": people[who],
        }
        for name, hours, value, color, who in events
    ]
    make_events(
        db, account.id, [*items, *({"metric": n, "time": BASE - dt.timedelta(days=9)} for n in "ABC")]
    )
    ids = {n: metric_id(db, account.id, n) for n in "ABC"}
    definition = {
        "aggregation_method": "value",
        "metric_groups": [
            {
                "metric_id": ids[name],
                "metric_filters": (
                    [
                        {
                            "property": "Color",
                            "filter": {"type": "string", "operator": "equals", "value": color},
                        }
                    ]
                    if color
                    else None
                ),
                "value_property": prop,
            }
            for name, color, prop in groups
        ],
    }
    with db.write() as session:
        custom = custom_metrics.create_custom_metric(session, account.id, "Union", definition).id
    with db.read() as session:
        got = aggregates.query(
            session,
            account.id,
            MetricAggregateAttributes(
                metric_id=custom, measurements=["count", "sum_value", "unique"], filter=RANGE
            ),
        ).rows[0]["measurements"]

    count, total, unique = [0] * 4, [0.0] * 4, [set() for _ in range(4)]  # type: ignore[var-annotated]
    for item in items:
        for name, color, prop in groups:
            if item["metric"] != name or (color and item["properties"].get("Color") != color):
                continue
            day = (item["time"] - BASE).days
            count[day] += 1
            value = item["value"] if prop in (None, "$value") else item["properties"].get(prop)
            total[day] += value or 0
            unique[day].add(item["profile_id"])
    assert got["count"] == count
    assert got["sum_value"] == pytest.approx(total)
    assert got["unique"] == [len(u) for u in unique]


def test_segment_conditions_name_a_custom_metric(db, client, account: AccountKeys) -> None:  # type: ignore[no-untyped-def]
    ann, bob, cat = ulid(), ulid(), ulid()
    with db.write() as session:
        for pid in (ann, bob, cat):
            session.add(Profile(account_id=account.id, id=pid, created=BASE, updated=BASE, properties={}))
    make_events(
        db,
        account.id,
        [
            {"metric": "Placed Order", "profile_id": ann, "value": 5, "properties": {"Brand": "Acme"}},
            {"metric": "Placed Order", "profile_id": bob, "value": 50, "properties": {"Brand": "Other"}},
            {"metric": "Shop Order", "profile_id": cat, "value": 1, "properties": {"Amount": 70}},
        ],
    )
    placed, shop = metric_id(db, account.id, "Placed Order"), metric_id(db, account.id, "Shop Order")
    response = client.post(
        "/api/custom-metrics", json=_body("Acme", _acme(placed, shop)), headers=account.headers()
    )
    custom = response.json()["data"]["id"]

    def members(measurement: str, operator: str, value: int) -> set[str]:
        definition = SegmentDefinition.model_validate(
            {
                "condition_groups": [
                    {
                        "conditions": [
                            {
                                "type": "profile-metric",
                                "metric_id": custom,
                                "measurement": measurement,
                                "measurement_filter": {
                                    "type": "numeric",
                                    "operator": operator,
                                    "value": value,
                                },
                                "timeframe_filter": {"type": "date", "operator": "alltime"},
                            }
                        ]
                    }
                ]
            }
        )
        with db.read() as session:
            found: set[str] = set()
            for full in (False, True):
                ctx = sql.Context(session, account.id, dt.datetime.now(dt.UTC), full=full)
                predicate = compiler.compile_definition(ctx, definition)
                stmt = select(Profile.id).where(Profile.account_id == account.id, predicate)
                result = set(session.execute(stmt).scalars())
                assert not found or result == found
                found = result
            return found

    assert members("count", "greater-than", 0) == {ann, cat}  # Bob's order is not Acme's
    assert members("sum", "greater-than", 10) == {cat}  # the shop order's Amount, 70
    segment = {
        "data": {
            "type": "segment",
            "attributes": {
                "name": "Acme buyers",
                "definition": {
                    "condition_groups": [
                        {
                            "conditions": [
                                {
                                    "type": "profile-metric",
                                    "metric_id": custom,
                                    "measurement": "count",
                                    "measurement_filter": {
                                        "type": "numeric",
                                        "operator": "greater-than",
                                        "value": 0,
                                    },
                                    "timeframe_filter": {"type": "date", "operator": "alltime"},
                                }
                            ]
                        }
                    ]
                },
            },
        }
    }
    created = client.post("/api/segments", json=segment, headers=account.headers())
    assert created.status_code == 201, created.text


def test_a_flow_may_be_triggered_by_a_custom_metric(db, client, account: AccountKeys) -> None:  # type: ignore[no-untyped-def]
    placed, shop = _orders(db, account)
    custom = client.post(
        "/api/custom-metrics", json=_body("Trigger", _acme(placed, shop)), headers=account.headers()
    ).json()["data"]["id"]
    definition = {
        "triggers": [{"type": "metric", "id": custom}],
        "entry_action_id": "wait",
        "actions": [
            {
                "temporary_id": "wait",
                "type": "time-delay",
                "links": {"next": None},
                "data": {"unit": "hours", "value": 1},
            }
        ],
    }
    body = {"data": {"type": "flow", "attributes": {"name": "On custom", "definition": definition}}}
    response = client.post("/api/flows", json=body, headers=account.headers())
    assert response.status_code == 201, response.text
    with db.read() as session:
        expansion = custom_metrics.expand(session, account.id, custom)
    assert expansion is not None and expansion.metric_ids == [placed, shop]
    assert expansion.groups[0].metric_filters[0]["property"] == "Brand"
    definition["triggers"] = [{"type": "metric", "id": "e" * 32}]
    missing = client.post("/api/flows", json=body, headers=account.headers())
    assert missing.status_code in (400, 404) and "e" * 32 in missing.text


def test_a_custom_metric_of_another_account_is_unknown(db, client, account, other_account) -> None:  # type: ignore[no-untyped-def]
    placed, shop = _orders(db, account)
    custom = client.post(
        "/api/custom-metrics", json=_body("Mine", _acme(placed, shop)), headers=account.headers()
    ).json()["data"]["id"]
    with db.read() as session:
        assert custom_metrics.expand(session, other_account.id, custom) is None
        assert custom_metrics.existing_ids(session, other_account.id, [custom]) == set()
