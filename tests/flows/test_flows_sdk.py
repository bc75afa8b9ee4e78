"""Flows through the official Python SDK 25 (revision 2026-10-15)."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_client.exceptions import BadRequestException, NotFoundException

from tests.campaigns.conftest import Shop
from tests.flows.factories import abandoned_cart, body, email, linear, metric


def _ids(shop: Shop, db: Any, account_id: str) -> dict[str, str]:
    return {
        "cart": metric(db, account_id, "Added to Cart"),
        "order": metric(db, account_id, "Placed Order"),
        "us": shop.make_template("<p>Hi {{ person.first_name }}, US</p>", name="US"),
        "other": shop.make_template("<p>Hi {{ person.first_name }}</p>", name="Other"),
    }


def test_create_the_abandoned_cart_flow_and_read_it_back(sdk, shop: Shop, db, account) -> None:  # type: ignore[no-untyped-def]
    ids = _ids(shop, db, account.id)
    created = sdk.Flows.create_flow(
        body("Abandoned cart", abandoned_cart(ids["cart"], ids["order"], ids["us"], ids["other"]))
    )
    flow_id = created.data.id
    attributes = created.data.attributes
    assert attributes.name == "Abandoned cart"
    assert attributes.status == "draft"
    assert attributes.trigger_type == "Metric"
    definition = attributes.definition
    actions = definition.actions
    # Temporary ids are answered with real ids, and every link names a real id.
    real = {a["id"] for a in actions}
    assert len(real) == 5 and not ({"wait", "ordered", "where", "email-us", "email-other"} & real)
    assert all("temporary_id" not in a for a in actions)
    assert definition.entry_action_id in real
    by_type = {a["type"]: a for a in actions}
    assert by_type["time-delay"]["id"] == definition.entry_action_id
    assert by_type["time-delay"]["links"]["next"] in real
    splits = [a for a in actions if a["type"] == "conditional-split"]
    assert splits[0]["links"]["next_if_false"] is None
    assert splits[1]["links"]["next_if_true"] in real and splits[1]["links"]["next_if_false"] in real
    # Defaults are answered as stored.
    emails = [a for a in actions if a["type"] == "send-email"]
    assert emails[0]["data"]["message"]["smart_sending_enabled"] is True
    # The template is copied: the message names its own copy, not the template it was given.
    assert {e["data"]["message"]["template_id"] for e in emails}.isdisjoint({ids["us"], ids["other"]})

    fetched = sdk.Flows.get_flow(flow_id, additional_fields_flow=["definition"], include=["flow-actions"])
    assert fetched.data.attributes.definition.entry_action_id == definition.entry_action_id
    assert len(fetched.included) == 5
    assert sorted(r.id for r in fetched.data.relationships.flow_actions.data) == sorted(real)
    plain = sdk.Flows.get_flow(flow_id)
    assert getattr(plain.data.attributes, "definition", None) is None

    listed = sdk.Flows.get_flows()
    assert flow_id in [f.id for f in listed.data]


def test_flow_messages_and_their_template_copies(sdk, shop: Shop, db, account) -> None:  # type: ignore[no-untyped-def]
    ids = _ids(shop, db, account.id)
    flow = sdk.Flows.create_flow(
        body("Cart", abandoned_cart(ids["cart"], ids["order"], ids["us"], ids["other"]))
    )
    email_action = next(a for a in flow.data.attributes.definition.actions if a["type"] == "send-email")
    action = sdk.Flows.get_flow_action(email_action["id"], include=["flow", "flow-messages"])
    assert action.data.attributes.definition["type"] == "send-email"
    assert action.data.relationships.flow.data.id == flow.data.id
    messages = sdk.Flows.get_flow_action_messages(email_action["id"])
    assert len(messages.data) == 1
    message = messages.data[0]
    assert message.attributes.channel == "email"
    assert message.attributes.definition["subject_line"] == "Your cart misses you"
    assert message.attributes.definition["id"] == message.id
    ids_only = sdk.Flows.get_message_ids_for_flow_action(email_action["id"])
    assert [m.id for m in ids_only.data] == [message.id]
    one = sdk.Flows.get_flow_message(message.id, include=["flow-action", "template"])
    template_id = one.data.relationships.template.data.id
    assert template_id == email_action["data"]["message"]["template_id"]
    template = sdk.Flows.get_template_for_flow_message(message.id)
    assert template.data.id == template_id and "US" in template.data.attributes.html
    assert sdk.Flows.get_template_id_for_flow_message(message.id).data.id == template_id
    assert sdk.Flows.get_action_for_flow_message(message.id).data.id == email_action["id"]
    assert sdk.Flows.get_action_id_for_flow_message(message.id).data.id == email_action["id"]
    assert sdk.Flows.get_flow_for_flow_action(email_action["id"]).data.id == flow.data.id
    assert sdk.Flows.get_flow_id_for_flow_action(email_action["id"]).data.id == flow.data.id
    # Editing the original template afterwards changes no flow message.
    shop.request(
        "PATCH",
        f"/api/templates/{ids['us']}",
        json={"data": {"type": "template", "id": ids["us"], "attributes": {"html": "<p>changed</p>"}}},
    )
    assert "US" in sdk.Flows.get_template_for_flow_message(message.id).data.attributes.html


def test_status_cascades_to_the_actions(sdk, shop: Shop, db, account) -> None:  # type: ignore[no-untyped-def]
    ids = _ids(shop, db, account.id)
    flow = sdk.Flows.create_flow(
        body("Cart", abandoned_cart(ids["cart"], ids["order"], ids["us"], ids["other"]))
    )
    flow_id = flow.data.id
    updated = sdk.Flows.update_flow(
        flow_id, {"data": {"type": "flow", "id": flow_id, "attributes": {"status": "live"}}}
    )
    assert updated.data.attributes.status == "live"
    actions = sdk.Flows.get_actions_for_flow(flow_id).data
    emails = [a for a in actions if a.attributes.definition["type"] == "send-email"]
    assert emails and all(a.attributes.definition["data"]["status"] == "live" for a in emails)
    live = sdk.Flows.get_actions_for_flow(flow_id, filter="equals(action_type,'send-email')").data
    assert sorted(a.id for a in live) == sorted(a.id for a in emails)
    assert len(sdk.Flows.get_action_ids_for_flow(flow_id).data) == 5
    manual = sdk.Flows.update_flow(
        flow_id, {"data": {"type": "flow", "id": flow_id, "attributes": {"status": "manual"}}}
    )
    assert manual.data.attributes.status == "manual"
    with pytest.raises(BadRequestException):
        sdk.Flows.update_flow(
            flow_id, {"data": {"type": "flow", "id": flow_id, "attributes": {"status": "paused"}}}
        )
    assert sdk.Flows.get_flows(filter="equals(status,'manual')").data[0].id == flow_id
    assert sdk.Flows.get_flows(filter="equals(status,'live')").data == []


def test_update_and_delete_an_action(sdk, shop: Shop, db, account) -> None:  # type: ignore[no-untyped-def]
    cart = metric(db, account.id, "Added to Cart")
    template = shop.make_template()
    definition = linear(
        {"type": "metric", "id": cart},
        {
            "temporary_id": "d",
            "type": "time-delay",
            "links": {"next": "e"},
            "data": {"unit": "hours", "value": 2},
        },
        email("e", template, "Hello"),
    )
    flow = sdk.Flows.create_flow(body("Two steps", definition))
    delay, message = flow.data.attributes.definition.actions
    changed = dict(delay)
    changed["data"] = {**delay["data"], "value": 5}
    updated = sdk.Flows.update_flow_action(
        delay["id"],
        {"data": {"type": "flow-action", "id": delay["id"], "attributes": {"definition": changed}}},
    )
    assert updated.data.attributes.definition["data"]["value"] == 5
    # A new subject keeps the message and its template copy.
    new_email = dict(message)
    new_email["data"] = {
        **message["data"],
        "message": {**message["data"]["message"], "subject_line": "Hi again"},
    }
    sdk.Flows.update_flow_action(
        message["id"],
        {"data": {"type": "flow-action", "id": message["id"], "attributes": {"definition": new_email}}},
    )
    stored = sdk.Flows.get_flow_action_messages(message["id"]).data[0]
    assert stored.attributes.definition["subject_line"] == "Hi again"
    assert stored.attributes.definition["template_id"] == message["data"]["message"]["template_id"]
    # Deleting the delay makes the email the entry action.
    sdk.Flows.delete_flow_action(delay["id"])
    after = sdk.Flows.get_flow(flow.data.id, additional_fields_flow=["definition"]).data.attributes.definition
    assert after.entry_action_id == message["id"]
    assert [a["id"] for a in after.actions] == [message["id"]]
    with pytest.raises(NotFoundException):
        sdk.Flows.get_flow_action(delay["id"])


def test_create_flow_action_sdk25(sdk, shop: Shop, db, account) -> None:  # type: ignore[no-untyped-def]
    cart = metric(db, account.id, "Added to Cart")
    flow = sdk.Flows.create_flow(
        body("Grow", linear({"type": "metric", "id": cart}, email("e", None, "Hello")))
    )
    (first,) = flow.data.attributes.definition.actions
    # Before an existing action: whatever led to it leads to the new one.
    inserted = sdk.Flows.create_flow_action(
        {
            "data": {
                "type": "flow-action",
                "attributes": {
                    "definition": {
                        "temporary_id": "wait",
                        "type": "time-delay",
                        "links": {"next": first["id"]},
                        "data": {"unit": "days", "value": 1},
                    }
                },
            }
        }
    )
    wait_id = inserted.data.id
    assert inserted.data.attributes.definition["links"]["next"] == first["id"]
    definition = sdk.Flows.get_flow(
        flow.data.id, additional_fields_flow=["definition"]
    ).data.attributes.definition
    assert definition.entry_action_id == wait_id
    # After an existing action, on its link (the anchor).
    after = sdk.Flows.create_flow_action(
        {
            "data": {
                "type": "flow-action",
                "attributes": {
                    "definition": {
                        "temporary_id": "sms",
                        "type": "send-sms",
                        "data": {"status": "live", "message": {"body": "Come back"}},
                    },
                    "anchor-action": {
                        "data": {
                            "type": "flow-action",
                            "id": first["id"],
                            "attributes": {"definition": {"type": "send-email", "links": {"next": "sms"}}},
                        }
                    },
                },
            }
        }
    )
    assert after.data.attributes.definition["data"]["status"] == "draft"  # message actions start in draft
    assert sdk.Flows.get_flow_action(first["id"]).data.attributes.definition["links"]["next"] == after.data.id
    assert len(sdk.Flows.get_flow_action_messages(after.data.id).data) == 1


def test_delete_flow(sdk, shop: Shop, db, account) -> None:  # type: ignore[no-untyped-def]
    cart = metric(db, account.id, "Added to Cart")
    flow = sdk.Flows.create_flow(
        body("Gone", linear({"type": "metric", "id": cart}, email("e", None, "Hello")))
    )
    (action,) = flow.data.attributes.definition.actions
    sdk.Flows.delete_flow(flow.data.id)
    with pytest.raises(NotFoundException):
        sdk.Flows.get_flow(flow.data.id)
    with pytest.raises(NotFoundException):
        sdk.Flows.get_flow_action(action["id"])


def test_a_flow_is_tagged_and_untagged(sdk, shop: Shop, db, account) -> None:  # type: ignore[no-untyped-def]
    cart = metric(db, account.id, "Added to Cart")
    flow = sdk.Flows.create_flow(
        body("Tagged", linear({"type": "metric", "id": cart}, email("e", None, "Hi")))
    ).data.id
    assert sdk.Flows.get_tags_for_flow(flow).data == []
    tag = sdk.Tags.create_tag({"data": {"type": "tag", "attributes": {"name": "Welcome series"}}}).data.id
    assert sdk.Tags.tag_flows(tag, {"data": [{"type": "flow", "id": flow}]}) is None
    assert [t.id for t in sdk.Tags.get_flow_ids_for_tag(tag).data] == [flow]
    assert [t.attributes.name for t in sdk.Flows.get_tags_for_flow(flow).data] == ["Welcome series"]
    assert [t.id for t in sdk.Flows.get_tag_ids_for_flow(flow).data] == [tag]
    assert sdk.Tags.remove_tag_from_flows(tag, {"data": [{"type": "flow", "id": flow}]}) is None
    assert sdk.Tags.get_flow_ids_for_tag(tag).data == []


def test_flow_triggers_of_metrics_lists_and_segments(sdk, shop: Shop, db, account) -> None:  # type: ignore[no-untyped-def]
    cart = metric(db, account.id, "Added to Cart")
    list_id = shop.make_list()
    segment_id = shop.make_segment()
    by_metric = sdk.Flows.create_flow(
        body("M", linear({"type": "metric", "id": cart}, email("e", None, "Hi")))
    )
    by_list = sdk.Flows.create_flow(
        body("L", linear({"type": "list", "id": list_id}, email("e", None, "Hi")))
    )
    by_segment = sdk.Flows.create_flow(
        body("S", linear({"type": "segment", "id": segment_id}, email("e", None, "Hi")))
    )
    assert by_list.data.attributes.trigger_type == "Added to List"
    assert [f.id for f in sdk.Metrics.get_flows_triggered_by_metric(cart).data] == [by_metric.data.id]
    assert [f.id for f in sdk.Metrics.get_ids_for_flows_triggered_by_metric(cart).data] == [by_metric.data.id]
    assert [f.id for f in sdk.Lists.get_flows_triggered_by_list(list_id).data] == [by_list.data.id]
    assert [f.id for f in sdk.Lists.get_ids_for_flows_triggered_by_list(list_id).data] == [by_list.data.id]
    assert [f.id for f in sdk.Segments.get_flows_triggered_by_segment(segment_id).data] == [
        by_segment.data.id
    ]
    assert [f.id for f in sdk.Segments.get_ids_for_flows_triggered_by_segment(segment_id).data] == [
        by_segment.data.id
    ]
    sdk.Flows.delete_flow(by_list.data.id)
    assert sdk.Lists.get_flows_triggered_by_list(list_id).data == []


def test_get_flows_filters_sorts_pages_and_includes(sdk, shop: Shop, db, account) -> None:  # type: ignore[no-untyped-def]
    cart = metric(db, account.id, "Added to Cart")
    list_id = shop.make_list()
    made = {}
    for name, trigger in (
        ("Alpha", {"type": "metric", "id": cart}),
        ("Beta", {"type": "list", "id": list_id}),
    ):
        made[name] = sdk.Flows.create_flow(body(name, linear(trigger, email("e", None, name)))).data.id
    made["Gamma"] = sdk.Flows.create_flow(
        body("Gamma", {"triggers": [], "entry_action_id": None, "actions": []})
    ).data.id
    by_name = sdk.Flows.get_flows(sort="-name")
    assert [f.attributes.name for f in by_name.data] == ["Gamma", "Beta", "Alpha"]
    metric_flows = sdk.Flows.get_flows(filter="equals(trigger_type,'Metric')")
    assert [f.id for f in metric_flows.data] == [made["Alpha"]]
    named = sdk.Flows.get_flows(filter="contains(name,'mm')")
    assert [f.id for f in named.data] == [made["Gamma"]]
    first = sdk.Flows.get_flows(sort="name", page_size=2)
    assert [f.attributes.name for f in first.data] == ["Alpha", "Beta"]
    second = sdk.Flows.get_flows(sort="name", page_size=2, page_cursor=first.links.next)
    assert [f.attributes.name for f in second.data] == ["Gamma"]
    included = sdk.Flows.get_flows(include=["flow-actions"], filter="equals(trigger_type,'Added to List')")
    assert [i["type"] for i in included.included] == ["flow-action"]
    assert included.included[0]["attributes"]["definition"]["data"]["message"]["subject_line"] == "Beta"


def test_a_definition_read_back_makes_a_copy_of_the_flow(sdk, shop: Shop, db, account) -> None:  # type: ignore[no-untyped-def]
    ids = _ids(shop, db, account.id)
    original = sdk.Flows.create_flow(
        body("Cart", abandoned_cart(ids["cart"], ids["order"], ids["us"], ids["other"]))
    )
    read = shop.request(
        "GET", f"/api/flows/{original.data.id}", params={"additional-fields[flow]": "definition"}
    ).json()["data"]["attributes"]["definition"]
    copy = sdk.Flows.create_flow(body("Cart (copy)", read))
    old_actions = read["actions"]
    new_actions = copy.data.attributes.definition.actions
    assert [a["type"] for a in new_actions] == [a["type"] for a in old_actions]
    assert {a["id"] for a in new_actions}.isdisjoint({a["id"] for a in old_actions})
    emails = [a for a in new_actions if a["type"] == "send-email"]
    html = {
        sdk.Flows.get_template_for_flow_message(e["data"]["message"]["id"]).data.attributes.html
        for e in emails
    }
    assert html == {"<p>Hi {{ person.first_name }}, US</p>", "<p>Hi {{ person.first_name }}</p>"}
