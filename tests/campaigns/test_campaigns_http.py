"""Campaigns in the stable shape (revision 2026-07-15), as plain HTTP: shapes, filters, errors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from tests.campaigns.conftest import EMAIL, OMNI, Shop
from tidings.campaigns.tables import Campaign
from tidings.db.session import Database


def _error(response: Any) -> dict[str, Any]:
    return response.json()["errors"][0]  # type: ignore[no-any-return]


def _created(shop: Shop, **attributes: Any) -> dict[str, Any]:
    list_id = attributes.pop("list_id", None) or shop.make_list()
    definition = attributes.pop("definition", None)
    response = shop.create({"name": "Launch", "audiences": {"included": [list_id]}, **attributes}, definition)
    assert response.status_code == 201, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def test_create_answers_the_spec_shape(shop: Shop) -> None:
    list_id, segment_id = shop.make_list(), shop.make_segment()
    response = shop.create({"name": "Launch", "audiences": {"included": [list_id], "excluded": [segment_id]}})
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    attributes = data["attributes"]
    assert data["type"] == "campaign" and data["links"]["self"].endswith(f"/api/campaigns/{data['id']}")
    assert attributes["name"] == "Launch"
    assert attributes["status"] == "Draft"
    assert attributes["archived"] is False
    assert attributes["audiences"] == {"included": [list_id], "excluded": [segment_id]}
    assert attributes["send_options"] == {"use_smart_sending": True}
    assert attributes["tracking_options"] == {
        "add_tracking_params": None,
        "custom_tracking_params": None,
        "is_tracking_clicks": True,
        "is_tracking_opens": True,
    }
    assert attributes["send_strategy"] == {"method": "immediate"}
    assert attributes["scheduled_at"] is None and attributes["send_time"] is None
    assert attributes["created_at"] and attributes["updated_at"]
    assert attributes["definition"]["name"] == "Launch"  # the omni shape, for SDK 25
    messages = data["relationships"]["campaign-messages"]["data"]
    assert len(messages) == 1 and messages[0]["type"] == "campaign-message"
    assert "data" not in data["relationships"]["tags"]  # linkage with include=tags (tests/tags)
    message = shop.request("GET", f"/api/campaign-messages/{messages[0]['id']}").json()["data"]
    definition = message["attributes"]["definition"]
    assert definition["channel"] == "email" and definition["label"] == "Launch"
    assert definition["content"] == {**EMAIL["content"], "cc_email": None, "bcc_email": None}  # type: ignore[dict-item]
    assert message["attributes"]["send_times"] == []
    assert message["relationships"]["campaign"]["data"] == {"type": "campaign", "id": data["id"]}
    assert message["relationships"]["template"]["data"] is None


def test_send_strategies_are_kept_as_given(shop: Shop) -> None:
    static = {
        "method": "static",
        "datetime": "2030-01-02T10:00:00Z",
        "options": {"is_local": True, "send_past_recipients_immediately": True},
    }
    data = _created(shop, send_strategy=static)
    assert data["attributes"]["send_strategy"] == {**static, "datetime": "2030-01-02T10:00:00+00:00"}
    assert data["attributes"]["send_time"] == "2030-01-02T10:00:00+00:00"
    assert data["attributes"]["definition"]["send_settings"]["send_strategy"] == "local_timezone"
    throttled = {"method": "throttled", "datetime": "2030-01-02T10:00:00+00:00", "throttle_percentage": 20}
    assert _created(shop, send_strategy=throttled)["attributes"]["send_strategy"] == throttled
    smart = {"method": "smart_send_time", "date": "2030-01-02"}
    assert _created(shop, send_strategy=smart)["attributes"]["send_strategy"] == smart


def test_bad_input_is_a_400_at_its_pointer(shop: Shop, other_shop: Shop) -> None:
    list_id = shop.make_list()
    response = shop.create({"name": "X", "audiences": {"included": [list_id, "nope42"]}})
    assert response.status_code == 400
    assert _error(response)["source"]["pointer"] == "/data/attributes/audiences/included/1"
    theirs = other_shop.make_list()
    response = shop.create({"name": "X", "audiences": {"included": [list_id], "excluded": [theirs]}})
    assert response.status_code == 400
    assert _error(response)["source"]["pointer"] == "/data/attributes/audiences/excluded/0"
    bad = {"method": "throttled", "datetime": "2030-01-02T10:00:00Z", "throttle_percentage": 3}
    response = shop.create({"name": "X", "audiences": {"included": [list_id]}, "send_strategy": bad})
    assert response.status_code == 400
    assert _error(response)["source"]["pointer"] == "/data/attributes/send_strategy/throttle_percentage"
    response = shop.create(
        {"name": "X", "audiences": {"included": [list_id]}}, {"channel": "email", "content": {"subject": 5}}
    )
    assert response.status_code == 400
    pointer = "/data/attributes/campaign-messages/data/0/attributes/definition/content/subject"
    assert _error(response)["source"]["pointer"] == pointer
    response = shop.create({"name": "X", "audiences": {"included": []}})
    assert response.status_code == 400
    assert _error(response)["source"]["pointer"] == "/data/attributes/audiences/included"
    body = {"data": {"type": "campaign", "attributes": {"name": "X", "audiences": {"included": [list_id]}}}}
    response = shop.request("POST", "/api/campaigns", json=body)
    assert response.status_code == 400
    assert _error(response)["source"]["pointer"] == "/data/attributes/campaign-messages"
    sms = {"channel": "sms", "content": {"body": "Hi"}}
    tracking = {"is_tracking_opens": True}
    response = shop.create(
        {"name": "X", "audiences": {"included": [list_id]}, "tracking_options": tracking}, sms
    )
    assert response.status_code == 400
    assert _error(response)["source"]["pointer"] == "/data/attributes/tracking_options/is_tracking_opens"
    assert (
        other_shop.request(
            "GET", "/api/campaigns", params={"filter": "equals(messages.channel,'email')"}
        ).json()["data"]
        == []
    )


def test_get_campaigns_filters_sorts_pages_and_includes(shop: Shop) -> None:
    list_id = shop.make_list()
    first = _created(shop, name="Alpha news", list_id=list_id)
    second = _created(shop, name="Beta news", list_id=list_id)
    sms = _created(
        shop, name="Alpha text", list_id=list_id, definition={"channel": "sms", "content": {"body": "Hi"}}
    )
    response = shop.request("GET", "/api/campaigns")
    assert response.status_code == 400 and _error(response)["source"]["parameter"] == "filter"
    assert shop.request("GET", "/api/campaigns", revision=OMNI).status_code == 200  # SDK 25 sends none

    def ids(params: dict[str, str]) -> list[str]:
        response = shop.request("GET", "/api/campaigns", params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["data"]]

    email = "equals(messages.channel,'email')"
    assert ids({"filter": email}) == [first["id"], second["id"]]
    assert ids({"filter": "equals(messages.channel,'sms')"}) == [sms["id"]]
    assert ids({"filter": f"{email},contains(name,'Beta')"}) == [second["id"]]
    assert ids({"filter": f"{email},equals(status,'Draft'),equals(archived,false)"}) == [
        first["id"],
        second["id"],
    ]
    assert ids({"filter": email, "sort": "-name"}) == [second["id"], first["id"]]
    assert ids(
        {"filter": f"{email},greater-than(created_at,2020-01-01T00:00:00Z)", "sort": "scheduled_at"}
    ) == [
        first["id"],
        second["id"],
    ]
    page = shop.request("GET", "/api/campaigns", params={"filter": email, "page[size]": "1"}).json()
    assert [item["id"] for item in page["data"]] == [first["id"]]
    following = shop.request("GET", page["links"]["next"]).json()
    assert [item["id"] for item in following["data"]] == [second["id"]]
    included = shop.request(
        "GET", "/api/campaigns", params={"filter": email, "include": "campaign-messages,tags"}
    ).json()
    assert {item["type"] for item in included["included"]} == {"campaign-message"}
    assert len(included["included"]) == 2
    sparse = shop.request(
        "GET", f"/api/campaigns/{first['id']}", params={"fields[campaign]": "name,send_strategy.method"}
    ).json()
    assert sparse["data"]["attributes"] == {"name": "Alpha news", "send_strategy": {"method": "immediate"}}
    tags = shop.request("GET", f"/api/campaigns/{first['id']}", params={"include": "tags"}).json()
    assert tags["included"] == [] and tags["data"]["relationships"]["tags"]["data"] == []
    bad = shop.request("GET", "/api/campaigns", params={"filter": "equals(messages.channel,'fax')"})
    assert bad.status_code == 400


def test_update_campaign_and_its_message(shop: Shop, db: Database) -> None:
    data = _created(shop)
    campaign_id = data["id"]
    segment_id = shop.make_segment()
    body = {
        "data": {
            "type": "campaign",
            "id": campaign_id,
            "attributes": {
                "name": "Renamed",
                "audiences": {"excluded": [segment_id]},
                "send_options": {"use_smart_sending": False},
                "tracking_options": {"is_tracking_clicks": False},
                "send_strategy": {"method": "static", "datetime": "2031-05-01T08:00:00+00:00"},
            },
        }
    }
    response = shop.request("PATCH", f"/api/campaigns/{campaign_id}", json=body)
    assert response.status_code == 200, response.text
    attributes = response.json()["data"]["attributes"]
    assert attributes["name"] == "Renamed"
    assert (
        attributes["audiences"]["excluded"] == [segment_id] and len(attributes["audiences"]["included"]) == 1
    )
    assert attributes["send_options"] == {"use_smart_sending": False}
    assert attributes["tracking_options"]["is_tracking_clicks"] is False
    assert attributes["tracking_options"]["is_tracking_opens"] is True
    assert attributes["send_time"] == "2031-05-01T08:00:00+00:00"
    body["data"]["id"] = "other"
    assert shop.request("PATCH", f"/api/campaigns/{campaign_id}", json=body).status_code == 409

    message_id = data["relationships"]["campaign-messages"]["data"][0]["id"]
    patch = {
        "data": {
            "type": "campaign-message",
            "id": message_id,
            "attributes": {"definition": {"channel": "email", "content": {"subject": "New subject"}}},
        }
    }
    response = shop.request("PATCH", f"/api/campaign-messages/{message_id}", json=patch)
    assert response.status_code == 200, response.text
    content = response.json()["data"]["attributes"]["definition"]["content"]
    assert content["subject"] == "New subject" and content["from_email"] == "news@shop.example"
    patch["data"]["attributes"] = {"definition": {"channel": "sms", "content": {"body": "x"}}}
    response = shop.request("PATCH", f"/api/campaign-messages/{message_id}", json=patch)
    assert response.status_code == 400
    assert _error(response)["source"]["pointer"] == "/data/attributes/definition/channel"

    with db.write() as session:  # the send step moves campaigns on; a sent one is not edited
        session.execute(update(Campaign).where(Campaign.id == campaign_id).values(status="Sent"))
    body["data"]["id"] = campaign_id
    response = shop.request("PATCH", f"/api/campaigns/{campaign_id}", json=body)
    assert response.status_code == 400 and "Sent" in _error(response)["detail"]


def test_sms_and_push_campaigns(shop: Shop) -> None:
    sms = _created(shop, definition={"channel": "sms", "content": {"body": "Hi {{ first_name }}"}})
    assert sms["attributes"]["tracking_options"] == {
        "add_tracking_params": None,
        "custom_tracking_params": None,
    }
    message_id = sms["relationships"]["campaign-messages"]["data"][0]["id"]
    definition = shop.request("GET", f"/api/campaign-messages/{message_id}").json()["data"]["attributes"][
        "definition"
    ]
    assert definition["content"] == {"body": "Hi {{ first_name }}", "media_url": None}
    assert definition["render_options"] == {
        "shorten_links": True,
        "add_org_prefix": True,
        "add_info_link": True,
        "add_opt_out_language": False,
    }
    push_definition = {
        "channel": "mobile_push",
        "content": {"title": "Sale", "body": "Now on"},
        "kv_pairs": {"screen": "sale"},
        "options": {"badge": {"display": True, "badge_options": {"badge_config": "increment_one"}}},
    }
    push = _created(shop, definition=push_definition)
    assert push["attributes"]["tracking_options"] is None
    message_id = push["relationships"]["campaign-messages"]["data"][0]["id"]
    definition = shop.request("GET", f"/api/campaign-messages/{message_id}").json()["data"]["attributes"][
        "definition"
    ]
    assert definition["notification_type"] == "standard"
    assert definition["content"]["title"] == "Sale" and definition["kv_pairs"] == {"screen": "sale"}


def test_assign_template_copies_it(shop: Shop, other_shop: Shop) -> None:
    data = _created(shop)
    message_id = data["relationships"]["campaign-messages"]["data"][0]["id"]
    template_id = shop.make_template("<p>Version 1</p>")

    def assign(template: str) -> Any:
        relationships = {"template": {"data": {"type": "template", "id": template}}}
        body = {"data": {"type": "campaign-message", "id": message_id, "relationships": relationships}}
        return shop.request("POST", "/api/campaign-message-assign-template", json=body)

    response = assign(template_id)
    assert response.status_code == 200, response.text
    copy_id = response.json()["data"]["relationships"]["template"]["data"]["id"]
    assert copy_id != template_id
    patch = {"data": {"type": "template", "id": template_id, "attributes": {"html": "<p>Version 2</p>"}}}
    assert shop.request("PATCH", f"/api/templates/{template_id}", json=patch).status_code == 200
    copy = shop.request("GET", f"/api/campaign-messages/{message_id}/template").json()["data"]
    assert copy["id"] == copy_id and copy["attributes"]["html"] == "<p>Version 1</p>"
    included = shop.request(
        "GET", f"/api/campaign-messages/{message_id}", params={"include": "template,campaign"}
    )
    assert {item["type"] for item in included.json()["included"]} == {"template", "campaign"}
    theirs = other_shop.make_template()
    response = assign(theirs)
    assert response.status_code == 404
    assert _error(response)["source"]["pointer"] == "/data/relationships/template/data/id"


def test_clone_copies_messages_as_a_draft(shop: Shop) -> None:
    data = _created(shop)
    body = {"data": {"type": "campaign", "id": data["id"], "attributes": {}}}
    response = shop.request("POST", "/api/campaign-clone", json=body)
    assert response.status_code == 201, response.text
    clone = response.json()["data"]
    assert clone["attributes"]["name"] == "Copy of Launch" and clone["attributes"]["status"] == "Draft"
    assert clone["attributes"]["audiences"] == data["attributes"]["audiences"]
    original = data["relationships"]["campaign-messages"]["data"][0]["id"]
    copied = clone["relationships"]["campaign-messages"]["data"][0]["id"]
    assert copied != original
    ids = shop.request("GET", f"/api/campaigns/{clone['id']}/relationships/campaign-messages").json()["data"]
    assert ids == [{"type": "campaign-message", "id": copied}]
    assert shop.request("DELETE", f"/api/campaigns/{data['id']}").status_code == 204
    assert shop.request("GET", f"/api/campaign-messages/{original}").status_code == 404
    assert shop.request("GET", f"/api/campaign-messages/{copied}").status_code == 200


def test_a_body_is_read_by_its_shape_whatever_the_revision(shop: Shop) -> None:
    data = _created(shop)
    body = {
        "data": {"type": "campaign", "id": data["id"], "attributes": {"name": "Stable body, new revision"}}
    }
    response = shop.request("PATCH", f"/api/campaigns/{data['id']}", json=body, revision=OMNI)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["attributes"]["name"] == "Stable body, new revision"
    omni = {
        "data": {"type": "campaign", "id": data["id"], "attributes": {"definition": {"name": "Omni body"}}}
    }
    response = shop.request("PATCH", f"/api/campaigns/{data['id']}", json=omni)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["attributes"]["name"] == "Omni body"
    body["data"]["attributes"] = {"archived": True}  # not an attribute of the stable update
    response = shop.request("PATCH", f"/api/campaigns/{data['id']}", json=body)
    assert response.status_code == 400
    assert _error(response)["source"]["pointer"] == "/data/attributes/archived"


def test_a_campaign_not_in_draft_keeps_its_messages(shop: Shop, db: Database) -> None:
    data = _created(shop)
    message_id = data["relationships"]["campaign-messages"]["data"][0]["id"]
    template_id = shop.make_template()
    with db.write() as session:
        session.execute(update(Campaign).where(Campaign.id == data["id"]).values(status="Sending"))
    patch = {
        "data": {
            "type": "campaign-message",
            "id": message_id,
            "attributes": {"definition": {"channel": "email", "content": {"subject": "Late"}}},
        }
    }
    assert shop.request("PATCH", f"/api/campaign-messages/{message_id}", json=patch).status_code == 400
    relationships = {"template": {"data": {"type": "template", "id": template_id}}}
    assign = {"data": {"type": "campaign-message", "id": message_id, "relationships": relationships}}
    assert shop.request("POST", "/api/campaign-message-assign-template", json=assign).status_code == 400
    assert shop.request("DELETE", f"/api/campaigns/{data['id']}").status_code == 400
    message = shop.request("GET", f"/api/campaign-messages/{message_id}").json()["data"]
    assert message["attributes"]["definition"]["content"]["subject"] == "Our launch"
    assert message["relationships"]["template"]["data"] is None
