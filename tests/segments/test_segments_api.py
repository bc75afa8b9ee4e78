"""Segment endpoints through the official SDK: CRUD, the echo of the definition, membership."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from openapi_client.exceptions import ApiException, NotFoundException

from tests.events.factories import make_events, metric_id
from tidings.jobs.worker import drain

NOW = dt.datetime.now(dt.UTC)


def _profile(sdk, **attributes: Any) -> str:  # type: ignore[no-untyped-def]
    attributes.setdefault("email", f"s-{uuid.uuid4().hex[:10]}@example.com")
    return sdk.Profiles.create_profile({"data": {"type": "profile", "attributes": attributes}}).data.id


def placed_in_last_30_days(metric: str) -> dict[str, Any]:
    return {
        "type": "profile-metric",
        "metric_id": metric,
        "measurement": "count",
        "measurement_filter": {"type": "numeric", "operator": "greater-than-or-equal", "value": 1},
        "timeframe_filter": {"type": "date", "operator": "in-the-last", "unit": "day", "quantity": 30},
        "metric_filters": None,
    }


def _create(sdk, conditions: list[dict[str, Any]], name: str = "Segment") -> Any:  # type: ignore[no-untyped-def]
    body = {
        "data": {
            "type": "segment",
            "attributes": {"name": name, "definition": {"condition_groups": [{"conditions": conditions}]}},
        }
    }
    return sdk.Segments.create_segment(body).data


def _members(sdk, segment_id: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {p.id for p in sdk.Segments.get_profiles_for_segment(segment_id).data}


def test_placed_order_segment(sdk, db, account) -> None:  # type: ignore[no-untyped-def]
    buyer, old_buyer, browser = _profile(sdk), _profile(sdk), _profile(sdk)
    make_events(
        db,
        account.id,
        [
            {"profile_id": buyer, "metric": "Placed Order", "time": NOW - dt.timedelta(days=2), "value": 10},
            {"profile_id": old_buyer, "metric": "Placed Order", "time": NOW - dt.timedelta(days=40)},
            {"profile_id": browser, "metric": "Viewed Product", "time": NOW},
        ],
    )
    placed = metric_id(db, account.id, "Placed Order")
    condition = placed_in_last_30_days(placed)
    segment = _create(sdk, [condition], "Buyers")
    returned = segment.attributes.definition.condition_groups[0].conditions[0]
    assert returned == {k: v for k, v in condition.items() if v is not None} | {"metric_filters": None}
    attributes = segment.attributes
    assert (
        attributes.is_active is True and attributes.is_processing is True and attributes.is_starred is False
    )
    drain(db)
    assert _members(sdk, segment.id) == {buyer}
    fetched = sdk.Segments.get_segment(segment.id, additional_fields_segment=["profile_count"]).data
    assert fetched.attributes.is_processing is False and fetched.attributes.profile_count == 1
    assert [s.id for s in sdk.Profiles.get_segments_for_profile(buyer).data] == [segment.id]
    assert [s.id for s in sdk.Profiles.get_segment_ids_for_profile(buyer).data] == [segment.id]

    # A new order enters the browser incrementally (the events listener's job).
    make_events(db, account.id, [{"profile_id": browser, "metric": "Placed Order", "time": NOW}])
    drain(db)
    assert _members(sdk, segment.id) == {buyer, browser}


def test_definition_echoed_exactly(sdk, client, account) -> None:  # type: ignore[no-untyped-def]
    definition = {
        "condition_groups": [
            {
                "conditions": [
                    {
                        "type": "profile-property",
                        "property": "properties['Favorite Color']",
                        "filter": {"type": "string", "operator": "equals", "value": "blue"},
                    },
                    {
                        "type": "profile-property",
                        "property": "created",
                        "filter": {"type": "date", "operator": "after", "date": "2022-11-08T00:00:00+00:00"},
                    },
                ]
            }
        ]
    }
    body = {"data": {"type": "segment", "attributes": {"name": "Blue", "definition": definition}}}
    response = client.post("/api/segments", json=body, headers=account.headers())
    assert response.status_code == 201, response.text
    assert response.json()["data"]["attributes"]["definition"] == definition
    segment_id = response.json()["data"]["id"]
    assert sdk.Segments.get_segment(segment_id).data.attributes.name == "Blue"

    update = {
        "data": {"type": "segment", "id": segment_id, "attributes": {"name": "Blue!", "is_starred": True}}
    }
    updated = sdk.Segments.update_segment(segment_id, update).data.attributes
    assert updated.name == "Blue!" and updated.is_starred is True
    assert sdk.Segments.delete_segment(segment_id) is None
    with pytest.raises(NotFoundException):
        sdk.Segments.get_segment(segment_id)


def _post(client, account, conditions: list[Any]) -> Any:  # type: ignore[no-untyped-def]
    body = {
        "data": {
            "type": "segment",
            "attributes": {"name": "Bad", "definition": {"condition_groups": [{"conditions": conditions}]}},
        }
    }
    return client.post("/api/segments", json=body, headers=account.headers())


@pytest.mark.parametrize(
    ("condition", "pointer"),
    [
        ({"type": "profile-nonsense"}, "/data/attributes/definition/condition_groups/0/conditions/0"),
        (
            {
                "type": "profile-property",
                "property": "email",
                "filter": {"type": "numeric", "operator": "contains", "value": 1},
            },
            "/data/attributes/definition/condition_groups/0/conditions/0/filter",
        ),
        (
            placed_in_last_30_days("NOPE00"),
            "/data/attributes/definition/condition_groups/0/conditions/0/metric_id",
        ),
        (
            {"type": "profile-group-membership", "is_member": True, "group_ids": ["nolist"]},
            "/data/attributes/definition/condition_groups/0/conditions/0/group_ids/0",
        ),
        (
            {
                "type": "profile-property",
                "property": "email",
                "filter": {"type": "string", "operator": "regex", "value": "(unclosed"},
            },
            "/data/attributes/definition/condition_groups/0/conditions/0/filter/value",
        ),
        (
            {
                "type": "profile-property",
                "property": "email",
                "filter": {"type": "string", "operator": "nregex", "value": "(?<=x)y"},
            },
            "/data/attributes/definition/condition_groups/0/conditions/0/filter/value",
        ),
    ],
)
def test_bad_definitions(client, account, condition: dict[str, Any], pointer: str) -> None:  # type: ignore[no-untyped-def]
    response = _post(client, account, [condition])
    assert response.status_code == 400, response.text
    assert pointer in [e["source"]["pointer"] for e in response.json()["errors"]]


def test_too_many_conditions(client, account) -> None:  # type: ignore[no-untyped-def]
    condition = {
        "type": "profile-property",
        "property": "email",
        "filter": {"type": "existence", "operator": "is-set"},
    }
    response = _post(client, account, [condition] * 101)
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"]["pointer"] == "/data/attributes/definition/condition_groups"


def test_segment_of_segments_and_cycles(sdk, db, client, account) -> None:  # type: ignore[no-untyped-def]
    group = sdk.Lists.create_list({"data": {"type": "list", "attributes": {"name": "VIP"}}}).data
    inside, outside = _profile(sdk), _profile(sdk)
    sdk.Lists.add_profiles_to_list(group.id, {"data": [{"type": "profile", "id": inside}]})
    in_list = _create(sdk, [{"type": "profile-group-membership", "is_member": True, "group_ids": [group.id]}])
    not_in = _create(
        sdk, [{"type": "profile-group-membership", "is_member": False, "group_ids": [in_list.id]}]
    )
    drain(db)
    assert _members(sdk, in_list.id) == {inside}
    assert inside not in _members(sdk, not_in.id) and outside in _members(sdk, not_in.id)

    # Joining the list moves the profile through both segments in one update.
    sdk.Lists.add_profiles_to_list(group.id, {"data": [{"type": "profile", "id": outside}]})
    drain(db)
    assert _members(sdk, in_list.id) == {inside, outside}
    assert outside not in _members(sdk, not_in.id)

    cycle = {
        "data": {
            "type": "segment",
            "id": in_list.id,
            "attributes": {
                "definition": {
                    "condition_groups": [
                        {
                            "conditions": [
                                {
                                    "type": "profile-group-membership",
                                    "is_member": True,
                                    "group_ids": [not_in.id],
                                }
                            ]
                        }
                    ]
                }
            },
        }
    }
    response = client.patch(f"/api/segments/{in_list.id}", json=cycle, headers=account.headers())
    assert response.status_code == 400, response.text
    with pytest.raises(ApiException) as caught:
        sdk.Segments.delete_segment(in_list.id)
    assert caught.value.status == 409


def test_explain_and_history(sdk, db, client, account) -> None:  # type: ignore[no-untyped-def]
    gold = _profile(sdk, properties={"plan": "gold"})
    silver = _profile(sdk, properties={"plan": "silver"})
    condition = {
        "type": "profile-property",
        "property": "properties['plan']",
        "filter": {"type": "string", "operator": "equals", "value": "gold"},
    }
    segment = _create(sdk, [condition], "Gold")
    drain(db)
    url = f"/api/x-tidings/segments/{segment.id}/explain"
    inside = client.get(url, params={"profile_id": gold}, headers=account.headers())
    assert inside.status_code == 200, inside.text
    attributes = inside.json()["data"]["attributes"]
    assert attributes["is_member"] is True and attributes["matches_now"] is True
    assert attributes["condition_groups"][0]["conditions"][0] == {"condition": condition, "matches": True}
    assert [h["change"] for h in attributes["history"]] == ["entered"]
    outside = client.get(url, params={"profile_id": silver}, headers=account.headers()).json()["data"][
        "attributes"
    ]
    assert outside["is_member"] is False and outside["condition_groups"][0]["matches"] is False
    assert client.get(url, headers=account.headers()).status_code == 400
    assert client.get(url, params={"profile_id": "nobody"}, headers=account.headers()).status_code == 404

    # A definition change moves the membership and the history says so.
    condition["filter"]["value"] = "silver"  # type: ignore[index]
    update = {
        "data": {
            "type": "segment",
            "id": segment.id,
            "attributes": {"definition": {"condition_groups": [{"conditions": [condition]}]}},
        }
    }
    sdk.Segments.update_segment(segment.id, update)
    drain(db)
    assert _members(sdk, segment.id) == {silver}
    history = client.get(url, params={"profile_id": gold}, headers=account.headers()).json()["data"][
        "attributes"
    ]
    assert [h["change"] for h in history["history"]] == ["entered", "exited"]


def test_regex_conditions(sdk, db) -> None:  # type: ignore[no-untyped-def]
    shop = _profile(sdk, email="ana@shop.example")
    gmail = _profile(sdk, email="bo.42@gmail.com")
    regex = {
        "type": "profile-property",
        "property": "email",
        "filter": {"type": "string", "operator": "regex", "value": "^[a-z.]+\\d+@gmail\\.com$"},
    }
    nregex = {**regex, "filter": {**regex["filter"], "operator": "nregex"}}
    matching, others = _create(sdk, [regex], "Gmail"), _create(sdk, [nregex], "Not gmail")
    drain(db)
    assert _members(sdk, matching.id) == {gmail}
    assert shop in _members(sdk, others.id) and gmail not in _members(sdk, others.id)


def test_birthday_in_the_next_week(sdk, db) -> None:  # type: ignore[no-untyped-def]
    today = dt.datetime.now(dt.UTC).date()
    soon = _profile(
        sdk, properties={"Birthday": (today + dt.timedelta(days=3)).replace(year=1992).isoformat()}
    )
    past = _profile(
        sdk, properties={"Birthday": (today - dt.timedelta(days=3)).replace(year=1988).isoformat()}
    )
    later = _profile(
        sdk, properties={"Birthday": (today + dt.timedelta(days=40)).replace(year=2000).isoformat()}
    )
    condition = {
        "type": "profile-property",
        "property": "properties['Birthday']",
        "filter": {"type": "date", "operator": "anniversary-next", "unit": "week", "quantity": 1},
    }
    last = {**condition, "filter": {**condition["filter"], "operator": "anniversary-last"}}
    upcoming, recent = _create(sdk, [condition], "Birthday soon"), _create(sdk, [last], "Birthday passed")
    drain(db)
    assert _members(sdk, upcoming.id) & {soon, past, later} == {soon}
    assert _members(sdk, recent.id) & {soon, past, later} == {past}


def test_every_condition_type_through_the_sdk(sdk, db, account) -> None:  # type: ignore[no-untyped-def]
    """Region, predictive, consent, group membership, metric and property conditions, each in a
    segment created through the SDK and read back with get_profiles_for_segment."""
    paris = _profile(sdk, location={"country": "France"}, properties={"Plan": "pro"})
    boston = _profile(sdk, location={"country": "United States"})
    now = dt.datetime.now(dt.UTC)
    make_events(
        db,
        account.id,
        [
            {"profile_id": paris, "time": now - dt.timedelta(days=3), "value": 30.0, "unique_id": "p1"},
            {"profile_id": paris, "time": now - dt.timedelta(days=1), "value": 50.0, "unique_id": "p2"},
        ],
    )
    boston_email = sdk.Profiles.get_profile(boston).data.attributes.email
    sdk.Profiles.bulk_suppress_profiles(
        {
            "data": {
                "type": "profile-suppression-bulk-create-job",
                "attributes": {
                    "profiles": {"data": [{"type": "profile", "attributes": {"email": boston_email}}]}
                },
            }
        }
    )
    group = sdk.Lists.create_list({"data": {"type": "list", "attributes": {"name": "VIP"}}}).data
    sdk.Lists.add_profiles_to_list(group.id, {"data": [{"type": "profile", "id": paris}]})
    consent = {
        "type": "profile-marketing-consent",
        "consent": {
            "channel": "email",
            "can_receive_marketing": False,
            "consent_status": {"subscription": "any"},
        },
    }
    cases = {
        "region": ({"type": "profile-region", "in_region": True, "region": "european_union"}, {paris}),
        "predictive": (
            {
                "type": "profile-predictive-analytics",
                "dimension": "historic_clv",
                "filter": {"type": "numeric", "operator": "greater-than", "value": 50},
            },
            {paris},
        ),
        "consent": (consent, {boston}),
        "group": ({"type": "profile-group-membership", "is_member": True, "group_ids": [group.id]}, {paris}),
        "metric": (placed_in_last_30_days(metric_id(db, account.id, "Placed Order")), {paris}),
        "property": (
            {
                "type": "profile-property",
                "property": "properties['Plan']",
                "filter": {"type": "string", "operator": "equals", "value": "PRO"},
            },
            {paris},
        ),
    }
    drain(db)
    created = {name: _create(sdk, [condition], name) for name, (condition, _) in cases.items()}
    drain(db)
    for name, (_, expected) in cases.items():
        assert _members(sdk, created[name].id) & {paris, boston} == expected, name


def test_funnel_conditions(sdk, db, account, client) -> None:  # type: ignore[no-untyped-def]
    buyer, browser, slow = _profile(sdk), _profile(sdk), _profile(sdk)
    now = dt.datetime.now(dt.UTC)
    make_events(
        db,
        account.id,
        [
            {"profile_id": buyer, "metric": "Viewed Product", "time": now - dt.timedelta(days=2)},
            {"profile_id": buyer, "time": now - dt.timedelta(days=2, hours=-3), "unique_id": "b1"},
            {"profile_id": browser, "metric": "Viewed Product", "time": now - dt.timedelta(days=1)},
            {"profile_id": slow, "metric": "Viewed Product", "time": now - dt.timedelta(days=5)},
            {"profile_id": slow, "time": now - dt.timedelta(days=1), "unique_id": "s1"},
        ],
    )
    viewed, placed = metric_id(db, account.id, "Viewed Product"), metric_id(db, account.id, "Placed Order")

    def funnel(then_placed: bool) -> dict[str, Any]:
        return {
            "type": "profile-metric-funnel",
            "timeframe_filter": {"type": "date", "operator": "in-the-last", "unit": "day", "quantity": 30},
            "completion_window_seconds": "DAYS_1",
            "steps": [
                {"metric_exists": True, "metric_id": viewed},
                {"metric_exists": then_placed, "metric_id": placed},
            ],
        }

    converted, abandoned = (
        _create(sdk, [funnel(True)], "Converted"),
        _create(sdk, [funnel(False)], "Abandoned"),
    )
    drain(db)
    assert _members(sdk, converted.id) & {buyer, browser, slow} == {buyer}
    assert _members(sdk, abandoned.id) & {buyer, browser, slow} == {
        browser,
        slow,
    }  # slow ordered after the day

    bad = funnel(True)
    bad["steps"][1]["metric_id"] = "NOPE00"
    response = _post(client, account, [bad])
    assert response.status_code == 400
    assert [e["source"]["pointer"] for e in response.json()["errors"]] == [
        "/data/attributes/definition/condition_groups/0/conditions/0/steps/1/metric_id"
    ]
    starts_with_absence = funnel(True)
    starts_with_absence["steps"][0]["metric_exists"] = False
    response = _post(client, account, [starts_with_absence])
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"]["pointer"].endswith("/conditions/0/steps/0/metric_exists")
