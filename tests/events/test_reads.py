"""Reading events, metrics and metric properties through the official SDK."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from openapi_client.exceptions import BadRequestException, NotFoundException
from sqlalchemy import select

from tests.conftest import AccountKeys
from tests.events.factories import make_events, metric_id
from tests.profiles.factories import make_profile
from tidings.db.ids import ulid
from tidings.events.tables import Event
from tidings.jobs.worker import drain
from tidings.segments.tables import SegmentChange

T0 = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def seeded(db, account: AccountKeys) -> dict:
    alice, bob = ulid(), ulid()
    ids = make_events(
        db,
        account.id,
        [
            {
                "profile_id": alice,
                "time": T0,
                "value": 10.5,
                "unique_id": "o1",
                "properties": {"Items": ["a"], "n": 1},
            },
            {
                "profile_id": alice,
                "time": T0 + dt.timedelta(days=1),
                "value": 4,
                "unique_id": "o2",
                "properties": {},
            },
            {
                "profile_id": bob,
                "time": T0 + dt.timedelta(days=2),
                "metric": "Viewed Product",
                "properties": {"SKU": "x"},
            },
        ],
    )
    return {"alice": alice, "bob": bob, "ids": ids, "order": metric_id(db, account.id, "Placed Order")}


def test_get_events_filters_sorts_and_shapes(sdk, seeded) -> None:
    page = sdk.Events.get_events(filter=f'equals(metric_id,"{seeded["order"]}")', sort="-datetime")
    assert [e.attributes.event_properties["$event_id"] for e in page.data] == ["o2", "o1"]
    first = page.data[1]
    assert first.attributes.timestamp == int(T0.timestamp())
    assert first.attributes.datetime_ == T0
    assert first.attributes.event_properties == {"Items": ["a"], "n": 1, "$event_id": "o1", "$value": 10.5}
    assert first.relationships.profile.data.id == seeded["alice"]
    assert first.relationships.metric.data.id == seeded["order"]
    assert first.attributes.uuid


def test_get_events_by_profile_and_time(sdk, seeded) -> None:
    by_bob = sdk.Events.get_events(filter=f'equals(profile_id,"{seeded["bob"]}")')
    assert len(by_bob.data) == 1
    later = sdk.Events.get_events(
        filter="greater-or-equal(datetime,2026-03-02T12:00:00+00:00)", sort="datetime"
    )
    assert [e.attributes.timestamp for e in later.data] == [
        int((T0 + dt.timedelta(days=d)).timestamp()) for d in (1, 2)
    ]
    by_ts = sdk.Events.get_events(filter=f"less-than(timestamp,{int(T0.timestamp()) + 1})")
    assert len(by_ts.data) == 1


def test_get_events_pages_and_includes_metrics(sdk, seeded) -> None:
    first = sdk.Events.get_events(page_size=2, sort="datetime", include=["metric"])
    assert len(first.data) == 2 and first.links.next
    assert {m["id"] for m in first.included} == {seeded["order"]}
    second = sdk.Events.get_events(page_cursor=first.links.next)
    assert len(second.data) == 1 and second.links.next is None


def test_get_event_and_its_relationships(sdk, seeded) -> None:
    event_id = seeded["ids"][0]
    event = sdk.Events.get_event(event_id)
    assert event.data.id == event_id
    assert sdk.Events.get_metric_for_event(event_id).data.attributes.name == "Placed Order"
    assert sdk.Events.get_metric_id_for_event(event_id).data.id == seeded["order"]
    assert sdk.Events.get_profile_id_for_event(event_id).data.id == seeded["alice"]
    with pytest.raises(NotFoundException):
        sdk.Events.get_event("01NOPE")


def test_bad_event_filters_are_400(sdk, seeded) -> None:
    for bad in ["equals(email,'x')", "greater-than(metric_id,'x')", "equals(profile_id"]:
        with pytest.raises(BadRequestException):
            sdk.Events.get_events(filter=bad)


def test_metrics_list_get_and_filter(sdk, seeded) -> None:
    names = {m.attributes.name for m in sdk.Metrics.get_metrics().data}
    assert names == {"Placed Order", "Viewed Product"}
    metric = sdk.Metrics.get_metric(seeded["order"])
    assert metric.data.attributes.integration["name"] == "API"
    assert len(sdk.Metrics.get_metrics(filter='equals(integration.name,"API")').data) == 2
    assert sdk.Metrics.get_metrics(filter='equals(integration.category,"Internal")').data == []


def test_metrics_paginate(db, sdk, account: AccountKeys, client) -> None:
    make_events(db, account.id, [{"metric": f"M{i}"} for i in range(5)])
    response = client.get("/api/metrics", headers=account.headers())
    assert len(response.json()["data"]) == 5


def test_metric_properties(sdk, seeded) -> None:
    props = sdk.Metrics.get_properties_for_metric(
        seeded["order"], additional_fields_metric_property=["sample_values"]
    )
    by_name = {p.attributes.var_property: p for p in props.data}
    assert by_name["Items"].attributes.inferred_type == "List"
    assert by_name["n"].attributes.inferred_type == "Number"
    prop_id = by_name["n"].id
    single = sdk.Metrics.get_metric_property(prop_id, include=["metric"])
    assert single.data.attributes.label == "n"
    assert sdk.Metrics.get_metric_for_metric_property(prop_id).data.id == seeded["order"]
    assert sdk.Metrics.get_metric_id_for_metric_property(prop_id).data.id == seeded["order"]
    ids = sdk.Metrics.get_property_ids_for_metric(seeded["order"])
    assert prop_id in {item.id for item in ids.data}


def _refused(client, account: AccountKeys, path: str, params: dict[str, str]) -> str:
    """The parameter a 400 `invalid` names (a 500 or any other answer fails the test)."""
    response = client.get(path, params=params, headers=account.headers())
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["code"] == "invalid"
    return error["source"]["parameter"]


@pytest.mark.parametrize(
    ("path", "flt"),
    [
        ("/api/events", "greater-than(timestamp,99999999999999)"),
        ("/api/events", "greater-than(timestamp,-99999999999999)"),
        ("/api/events", "greater-than(timestamp,1e20)"),
        ("/api/events", "greater-than(timestamp,1e400)"),
        ("/api/events", "greater-than(datetime,9999-12-31T23:59:59-05:00)"),
        ("/api/events", "greater-than(datetime,0001-01-01T00:00:00+05:00)"),
        ("/api/events", "less-than(datetime,'9999-12-31T23:59:59-05:00')"),
        ("/api/events", 'equals(metric_id,["a"])'),
        ("/api/events", "equals(profile_id,[])"),
        ("/api/metrics", 'equals(integration.name,["API"])'),
        ("/api/profiles", 'equals(email,["a@b.co"])'),
        ("/api/profiles", 'any(email,"a@b.co")'),
        ("/api/profiles", "greater-than(created,9999-12-31T23:59:59-05:00)"),
    ],
)
def test_filter_values_that_cannot_be_compared_are_400(client, account: AccountKeys, path, flt) -> None:
    assert _refused(client, account, path, {"filter": flt}) == "filter"


def test_extreme_but_valid_filter_values_answer(sdk, seeded) -> None:
    assert len(sdk.Events.get_events(filter="greater-than(timestamp,253402300799)").data) == 0
    assert len(sdk.Events.get_events(filter="greater-than(datetime,0001-01-01T05:00:00+05:00)").data) == 3
    assert len(sdk.Events.get_events(filter="less-than(datetime,9999-12-31T23:59:59+00:00)").data) == 3


def _cursor(**raw: object) -> str:
    """A hand-made page cursor (as a client altering one would send)."""
    base = {"o": "get_events", "d": "n", "k": [{"t": "2026-03-02T12:00:00+00:00"}, "01A"], "s": None}
    data = json.dumps({**base, "f": None, "n": 200, **raw}).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.mark.parametrize(
    "raw",
    [
        {"k": [5, "01A"]},
        {"k": ["2026-03-02", "01A"]},
        {"k": [["a"], "01A"]},
        {"k": [{"t": "9999-12-31T23:59:59-05:00"}, "01A"]},
        {"k": [{"t": "2026-03-02T12:00:00+00:00"}, ["01A"]]},
        {"n": 100000},
        {"n": -5},
        {"n": 0},
        {"n": "20"},
        {"s": ["datetime"]},
        {"f": ["equals(metric_id,'x')"]},
    ],
)
def test_altered_cursors_are_400_on_the_cursor(client, account: AccountKeys, seeded, raw) -> None:
    assert _refused(client, account, "/api/events", {"page[cursor]": _cursor(**raw)}) == "page[cursor]"


def test_altered_cursor_sort_keys_are_400_on_every_listing(client, account: AccountKeys) -> None:
    for sort, key in [("created", 5), ("created", "x"), ("-email", {"t": "2026-03-02T12:00:00+00:00"})]:
        cursor = _cursor(o="get_profiles", k=[key, "01A"], s=sort, n=20)
        assert _refused(client, account, "/api/profiles", {"page[cursor]": cursor}) == "page[cursor]"
    cursor = _cursor(o="get_metrics", k=["01A", ["01A"]], n=20)
    assert _refused(client, account, "/api/metrics", {"page[cursor]": cursor}) == "page[cursor]"


def test_a_cursor_made_without_sort_follows_with_the_default_spelled_out(sdk, seeded) -> None:
    first = sdk.Events.get_events(page_size=2)
    again = sdk.Events.get_events(page_cursor=first.links.next, sort="datetime")
    assert [e.id for e in first.data + again.data] == seeded["ids"]
    with pytest.raises(BadRequestException):
        sdk.Events.get_events(page_cursor=first.links.next, sort="-datetime")


def test_profile_for_event_gives_the_additional_fields_asked_for(db, sdk, account: AccountKeys) -> None:
    profile_id = make_profile(db, account.id, email="events-extra@example.com")
    [event_id] = make_events(db, account.id, [{"profile_id": profile_id, "value": 30, "time": T0}])
    plain = sdk.Events.get_profile_for_event(event_id)
    assert plain.data.attributes.subscriptions is None
    extra = ["subscriptions", "predictive_analytics"]
    profile = sdk.Events.get_profile_for_event(event_id, additional_fields_profile=extra)
    attributes = profile.data.attributes
    assert profile.data.id == profile_id
    assert attributes.subscriptions.email.marketing.consent == "NEVER_SUBSCRIBED"
    assert attributes.predictive_analytics.historic_clv == 30
    assert attributes.predictive_analytics.historic_number_of_orders == 1


def test_attributions_carry_no_links_to_paths_that_do_not_exist(client, account: AccountKeys, seeded) -> None:
    event_id = seeded["ids"][0]
    response = client.get(f"/api/events/{event_id}", headers=account.headers())
    assert response.json()["data"]["relationships"]["attributions"] == {"data": []}
    for path in ("attributions", "relationships/attributions"):
        assert client.get(f"/api/events/{event_id}/{path}", headers=account.headers()).status_code == 404


def test_a_numeric_value_property_is_the_events_value(db, sdk, account: AccountKeys) -> None:
    def create(properties: dict, **attributes: object) -> None:
        metric = {"data": {"type": "metric", "attributes": {"name": "Paid"}}}
        profile = {"data": {"type": "profile", "attributes": {"email": "value@example.com"}}}
        body = {
            "type": "event",
            "attributes": {"properties": properties, "metric": metric, "profile": profile},
        }
        sdk.Events.create_event({"data": {**body, "attributes": {**body["attributes"], **attributes}}})

    create({"$value": 7, "Plan": "pro"}, time="2026-03-01T10:00:00+00:00")
    create({"$value": "seven"}, time="2026-03-01T11:00:00+00:00")
    create({"$value": 100}, time="2026-03-01T12:00:00+00:00", value=2.5)
    drain(db)
    events = sdk.Events.get_events(sort="datetime").data
    assert [e.attributes.event_properties for e in events] == [
        {"Plan": "pro", "$value": 7, "$event_id": "1772359200"},
        {"$value": "seven", "$event_id": "1772362800"},
        {"$value": 2.5, "$event_id": "1772366400"},  # `value` given: it is the value
    ]
    query = {
        "metric_id": events[0].relationships.metric.data.id,
        "measurements": ["sum_value"],
        "filter": [
            "greater-or-equal(datetime,2026-03-01T00:00:00)",
            "less-than(datetime,2026-03-02T00:00:00)",
        ],
    }
    result = sdk.Metrics.query_metric_aggregates({"data": {"type": "metric-aggregate", "attributes": query}})
    assert result.data.attributes.data[0].measurements["sum_value"] == [9.5]
    properties = sdk.Metrics.get_properties_for_metric(events[0].relationships.metric.data.id)
    assert {p.attributes.var_property: p.attributes.inferred_type for p in properties.data} == {
        "Plan": "String",
        "$value": "String",  # only the value that is not a number stays a property
    }


def test_segment_entries_are_not_listed_as_events(sdk, db, account) -> None:
    """A segment entry is not an event (Klaviyo has none): a profile's event list shows what it
    did, however many segments it entered meanwhile; the entry is in the change log."""
    profile = sdk.Profiles.create_profile(
        {
            "data": {
                "type": "profile",
                "attributes": {"email": "member@example.com", "properties": {"vip": True}},
            }
        }
    ).data.id
    condition = {
        "type": "profile-property",
        "property": "properties['vip']",
        "filter": {"type": "boolean", "operator": "equals", "value": True},
    }
    sdk.Segments.create_segment(
        {
            "data": {
                "type": "segment",
                "attributes": {
                    "name": "VIPs",
                    "definition": {"condition_groups": [{"conditions": [condition]}]},
                },
            }
        }
    )
    drain(db)
    assert [
        p.id for p in sdk.Segments.get_profiles_for_segment(sdk.Segments.get_segments().data[0].id).data
    ] == [profile]
    with db.read() as session:
        stored = session.execute(select(Event.id).where(Event.profile_id == profile)).scalars().all()
        entries = session.execute(
            select(SegmentChange.profile_id, SegmentChange.entered).where(
                SegmentChange.account_id == account.id
            )
        ).all()
    assert stored == []
    assert sdk.Events.get_events(filter=f'equals(profile_id,"{profile}")').data == []
    assert [tuple(e) for e in entries] == [(profile, True)]
    assert [m.attributes.name for m in sdk.Metrics.get_metrics().data] == []
