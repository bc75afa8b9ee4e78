"""Bad flow definitions: each refused with the right status, code and pointer, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.campaigns.conftest import Shop
from tests.flows.factories import abandoned_cart, body, email, linear, metric

BASE = "/data/attributes/definition"


def _errors(response: Any, status: int) -> list[tuple[str, str]]:
    assert response.status_code == status, response.text
    errors = response.json()["errors"]
    return [(e["source"].get("pointer"), e["detail"]) for e in errors]


def _post(shop: Shop, definition: dict[str, Any]) -> Any:
    return shop.request("POST", "/api/flows", json=body("Bad", definition))


def delay(tid: str, nxt: str | None, value: int = 1, unit: str = "hours", **data: Any) -> dict[str, Any]:
    return {
        "temporary_id": tid,
        "type": "time-delay",
        "links": {"next": nxt},
        "data": {"unit": unit, "value": value, **data},
    }


@pytest.fixture
def cart(db, account) -> str:  # type: ignore[no-untyped-def]
    return metric(db, account.id, "Added to Cart")


def test_a_cycle_is_refused_at_the_link_that_closes_it(shop: Shop, cart: str) -> None:
    definition = linear({"type": "metric", "id": cart}, delay("a", "b"), delay("b", "c"), delay("c", "a"))
    ((pointer, detail),) = _errors(_post(shop, definition), 400)
    assert pointer == f"{BASE}/actions/2/links/next"
    assert "cycle" in detail and "a → b → c → a" in detail


def test_a_dangling_link_and_an_unreachable_action(shop: Shop, cart: str) -> None:
    definition = linear({"type": "metric", "id": cart}, delay("a", "nowhere"), delay("lost", None))
    errors = _errors(_post(shop, definition), 400)
    assert (f"{BASE}/actions/0/links/next") in [p for p, _ in errors]
    assert any(p == f"{BASE}/actions/1" and "cannot be reached" in d for p, d in errors)


def test_entry_action_must_exist(shop: Shop, cart: str) -> None:
    definition = {
        "triggers": [{"type": "metric", "id": cart}],
        "entry_action_id": "zz",
        "actions": [delay("a", None)],
    }
    ((pointer, _),) = _errors(_post(shop, definition), 400)
    assert pointer == f"{BASE}/entry_action_id"


def test_a_split_with_no_branches(shop: Shop, cart: str) -> None:
    split = {"temporary_id": "s", "type": "multi-branch-split", "data": {"name": "Where", "branches": []}}
    ((pointer, detail),) = _errors(_post(shop, linear({"type": "metric", "id": cart}, split)), 400)
    assert pointer == f"{BASE}/actions/0/data/branches" and "at least one branch" in detail


def test_a_multi_branch_split_is_stored_with_branch_ids(shop: Shop, cart: str) -> None:
    us = {
        "condition_groups": [
            {"conditions": [{"type": "profile-region", "in_region": True, "region": "united_states"}]}
        ]
    }
    split = {
        "temporary_id": "s",
        "type": "multi-branch-split",
        "data": {
            "name": "Where",
            "branches": [
                {"order": 0, "branch_filter": us, "links": {"next": "us"}},
                {"is_else": True, "links": {"next": "other"}},
            ],
        },
    }
    response = _post(
        shop,
        linear({"type": "metric", "id": cart}, split, email("us", None, "US"), email("other", None, "Other")),
    )
    assert response.status_code == 201, response.text
    stored = response.json()["data"]["attributes"]["definition"]["actions"]
    branches = stored[0]["data"]["branches"]
    assert all(b["branch_id"] for b in branches)
    assert [b["links"]["next"] for b in branches] == [stored[1]["id"], stored[2]["id"]]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"unit": "hours", "value": 0}, "delay of zero"),
        ({"unit": "days", "value": 400}, "at most 365 days"),
        ({"unit": "days", "value": 365, "secondary_value": 1}, "at most 365 days"),
    ],
)
def test_delays_of_zero_or_of_years(shop: Shop, cart: str, data: dict[str, Any], words: str) -> None:
    action = {"temporary_id": "a", "type": "time-delay", "links": {"next": None}, "data": data}
    ((pointer, detail),) = _errors(_post(shop, linear({"type": "metric", "id": cart}, action)), 400)
    assert pointer == f"{BASE}/actions/0/data/value" and words in detail


def test_a_zero_delay_until_a_time_of_day_is_a_wait(shop: Shop, cart: str) -> None:
    action = delay("a", None, value=0, unit="days", delay_until_time="09:00", delay_until_weekdays=["monday"])
    response = _post(shop, linear({"type": "metric", "id": cart}, action))
    assert response.status_code == 201, response.text


def test_custom_object_trigger_says_why(shop: Shop) -> None:
    trigger = {
        "type": "date",
        "date_field_type": "custom-object",
        "custom_object_label": "Pets",
        "timedelta_value_before_date": 1,
    }
    definition = {"triggers": [trigger], "entry_action_id": None, "actions": []}
    ((pointer, detail),) = _errors(_post(shop, definition), 400)
    assert pointer == f"{BASE}/triggers/0/date_field_type"
    assert "custom" in detail.lower() and "not" in detail


@pytest.mark.parametrize(("kind", "words"), [("code", "customer code"), ("send-whatsapp", "WhatsApp")])
def test_code_and_whatsapp_actions_say_why(shop: Shop, cart: str, kind: str, words: str) -> None:
    action = {"temporary_id": "x", "type": kind, "links": {"next": None}, "data": {}}
    ((pointer, detail),) = _errors(_post(shop, linear({"type": "metric", "id": cart}, action)), 400)
    assert pointer == f"{BASE}/actions/0/type" and words in detail


def test_unknown_types_and_wrong_values_at_their_pointers(shop: Shop, cart: str) -> None:
    definition = linear(
        {"type": "metric", "id": cart},
        {"temporary_id": "a", "type": "teleport", "links": {"next": "b"}},
        delay("b", None, timezone="Mars/Olympus"),
    )
    errors = _errors(_post(shop, definition), 400)
    assert [p for p, _ in errors] == [f"{BASE}/actions/0", f"{BASE}/actions/1/data/timezone"]


def test_every_trigger_type(shop: Shop, cart: str) -> None:
    list_id, segment_id = shop.make_list(), shop.make_segment()
    triggers = [
        {"type": "list", "id": list_id},
        {"type": "segment", "id": segment_id},
        {
            "type": "metric",
            "id": cart,
            "trigger_filter": {
                "condition_groups": [
                    {
                        "conditions": [
                            {
                                "type": "metric-property",
                                "metric_id": cart,
                                "field": "Value",
                                "filter": {"type": "numeric", "operator": "greater-than", "value": 50},
                            }
                        ]
                    }
                ]
            },
        },
        {
            "type": "date",
            "date_field_type": "profile-property",
            "date_profile_property": "birthday",
            "timedelta_unit_before_date": "days",
            "timedelta_value_before_date": 0,
            "recurrence_frequency": "annually",
            "timezone": "profile",
            "trigger_time": "09:00",
        },
        {
            "type": "price-drop",
            "trigger_filter": None,
            "price_drop_amount_value": 10,
            "price_drop_amount_unit": "percent",
            "audience": ["viewed"],
        },
        {
            "type": "low-inventory",
            "product_level": "variant",
            "trigger_filter": None,
            "inventory_count": 5,
            "audience": ["added-to-cart"],
        },
    ]
    names = []
    for trigger in triggers:
        response = _post(shop, linear(trigger, email("e", None, "Hi")))
        assert response.status_code == 201, response.text
        names.append(response.json()["data"]["attributes"]["trigger_type"])
    assert names == ["Added to List", "Added to List", "Metric", "Date Based", "Price Drop", "Low Inventory"]


def test_another_accounts_list_segment_metric_and_template_are_404s(
    shop: Shop, other_shop: Shop, db, other_account
) -> None:  # type: ignore[no-untyped-def]
    theirs = {
        "list": other_shop.make_list(),
        "segment": other_shop.make_segment(),
        "metric": metric(db, other_account.id, "Theirs"),
        "template": other_shop.make_template(),
    }
    for kind in ("list", "segment", "metric"):
        ((pointer, detail),) = _errors(_post(shop, linear({"type": kind, "id": theirs[kind]})), 404)
        assert pointer == f"{BASE}/triggers/0/id" and theirs[kind] in detail
    mine = shop.make_list()
    definition = linear(
        {"type": "list", "id": mine},
        email("e", theirs["template"], "Hi", "u"),
        {
            "temporary_id": "u",
            "type": "list-update",
            "links": {"next": None},
            "data": {"name": "x", "on_execution": True, "list_id": theirs["list"]},
        },
    )
    errors = _errors(_post(shop, definition), 404)
    assert [p for p, _ in errors] == [
        f"{BASE}/actions/1/data/list_id",
        f"{BASE}/actions/0/data/message/template_id",
    ]
    assert shop.request("GET", "/api/flows").json()["data"] == []


def test_conditions_reuse_the_segment_models(shop: Shop, cart: str, db, account) -> None:  # type: ignore[no-untyped-def]
    order = metric(db, account.id, "Placed Order")
    us, other = shop.make_template(name="US"), shop.make_template(name="Other")
    good = abandoned_cart(cart, order, us, other)
    good["profile_filter"] = {
        "condition_groups": [
            {
                "conditions": [
                    {
                        "type": "profile-not-in-flow",
                        "timeframe_filter": {"type": "date", "operator": "alltime"},
                    }
                ]
            }
        ]
    }
    assert _post(shop, good).status_code == 201
    bad = abandoned_cart(cart, order, us, other)
    condition = bad["actions"][1]["data"]["profile_filter"]["condition_groups"][0]["conditions"][0]
    condition["measurement_filter"] = {"type": "numeric", "operator": "about", "value": 0}
    condition["metric_id"] = "nope"
    errors = _errors(_post(shop, bad), 400)
    assert (
        errors[0][0]
        == f"{BASE}/actions/1/data/profile_filter/condition_groups/0/conditions/0/measurement_filter"
    )
    # "Not in flow" belongs to the flow's own filter, not to a split's.
    split = abandoned_cart(cart, order, us, other)
    split["actions"][1]["data"]["profile_filter"]["condition_groups"][0]["conditions"][0] = {
        "type": "profile-not-in-flow",
        "timeframe_filter": {"type": "date", "operator": "alltime"},
    }
    assert _post(shop, split).status_code == 400


def test_trigger_split_only_on_the_triggering_event(shop: Shop, cart: str) -> None:
    list_id = shop.make_list()
    split = {
        "temporary_id": "t",
        "type": "trigger-split",
        "links": {"next_if_true": None, "next_if_false": None},
        "data": {
            "trigger_id": cart,
            "trigger_type": "metric",
            "trigger_filter": {
                "condition_groups": [
                    {
                        "conditions": [
                            {
                                "type": "metric-property",
                                "metric_id": cart,
                                "field": "Brand",
                                "filter": {"type": "string", "operator": "equals", "value": "Acme"},
                            }
                        ]
                    }
                ]
            },
        },
    }
    assert _post(shop, linear({"type": "metric", "id": cart}, split)).status_code == 201
    ((pointer, detail),) = _errors(_post(shop, linear({"type": "list", "id": list_id}, split)), 400)
    assert pointer == f"{BASE}/actions/0/type" and "no event" in detail


def test_status_and_ids_in_update_flow(shop: Shop, cart: str) -> None:
    created = _post(shop, linear({"type": "metric", "id": cart}, email("e", None, "Hi")))
    flow_id = created.json()["data"]["id"]
    wrong = shop.request(
        "PATCH",
        f"/api/flows/{flow_id}",
        json={"data": {"type": "flow", "id": "other", "attributes": {"status": "live"}}},
    )
    assert wrong.status_code == 409
    bad = shop.request(
        "PATCH",
        f"/api/flows/{flow_id}",
        json={"data": {"type": "flow", "id": flow_id, "attributes": {"status": "paused"}}},
    )
    assert _errors(bad, 400)[0][0] == "/data/attributes/status"
    empty = _post(shop, {"triggers": [], "entry_action_id": None, "actions": []})
    assert empty.json()["data"]["attributes"]["trigger_type"] == "Unconfigured"
    empty_id = empty.json()["data"]["id"]
    refused = shop.request(
        "PATCH",
        f"/api/flows/{empty_id}",
        json={"data": {"type": "flow", "id": empty_id, "attributes": {"status": "live"}}},
    )
    assert _errors(refused, 400)[0][0] == "/data/attributes/status"


def test_update_flow_action_keeps_the_graph_valid(shop: Shop, cart: str) -> None:
    created = _post(shop, linear({"type": "metric", "id": cart}, delay("a", "b"), delay("b", None)))
    first, second = created.json()["data"]["attributes"]["definition"]["actions"]
    loop = {**second, "links": {"next": first["id"]}}
    response = shop.request(
        "PATCH",
        f"/api/flow-actions/{second['id']}",
        json={"data": {"type": "flow-action", "id": second["id"], "attributes": {"definition": loop}}},
    )
    ((pointer, detail),) = _errors(response, 400)
    assert pointer == f"{BASE}/links/next" and "cycle" in detail
    retyped = {**second, "type": "send-sms", "data": {"message": {"body": "x"}}}
    response = shop.request(
        "PATCH",
        f"/api/flow-actions/{second['id']}",
        json={"data": {"type": "flow-action", "id": second["id"], "attributes": {"definition": retyped}}},
    )
    assert _errors(response, 400)[0][0] == f"{BASE}/type"


def test_a_split_with_actions_on_its_branches_is_not_deleted(shop: Shop, cart: str, db, account) -> None:  # type: ignore[no-untyped-def]
    order = metric(db, account.id, "Placed Order")
    created = _post(shop, abandoned_cart(cart, order, shop.make_template(), shop.make_template()))
    split = created.json()["data"]["attributes"]["definition"]["actions"][2]
    response = shop.request("DELETE", f"/api/flow-actions/{split['id']}")
    assert _errors(response, 400)[0][1].startswith("A split with actions")


@pytest.mark.parametrize("name", ["location.country", "country", "properties.size"])
def test_a_profile_property_the_compiler_cannot_read_is_refused_when_saved(
    shop: Shop,
    cart: str,
    db,
    account,
    name: str,  # type: ignore[no-untyped-def]
) -> None:
    """Not when the runs reach it: `location['country']` is how a location field is named."""
    order = metric(db, account.id, "Placed Order")
    definition = abandoned_cart(cart, order, shop.make_template(name="US"), shop.make_template(name="Other"))
    condition = definition["actions"][2]["data"]["profile_filter"]["condition_groups"][0]["conditions"][0]
    assert condition["property"] == "location['country']"
    condition["property"] = name
    ((pointer, detail),) = _errors(_post(shop, definition), 400)
    assert pointer == f"{BASE}/actions/2/data/profile_filter/condition_groups/0/conditions/0/property"
    assert "location['...']" in detail
    condition["property"] = "location['country']"
    assert _post(shop, definition).status_code == 201
