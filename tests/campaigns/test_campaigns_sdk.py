"""Campaigns through the official Python SDK 25 (revision 2026-10-15, the omni shape)."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from openapi_client.exceptions import BadRequestException, NotFoundException
from PIL import Image as PILImage

from tests.campaigns.conftest import Shop


def _list(sdk: Any, name: str = "Newsletter") -> str:
    return str(sdk.Lists.create_list({"data": {"type": "list", "attributes": {"name": name}}}).data.id)


def _omni_body(name: str, list_id: str, **details: Any) -> dict[str, Any]:
    return {
        "data": {
            "type": "campaign",
            "attributes": {
                "definition": {"name": name, "send_settings": {"send_timezone": "UTC"}},
                "audiences": [{"temporary_id": "a1", "included": [list_id], "excluded": []}],
                "messages": [
                    {
                        "audience_temporary_id": "a1",
                        "name": "First",
                        "variations": [
                            {
                                "definition": {
                                    "name": "A",
                                    "details": {"channel": "email", "subject": "Hi", **details},
                                }
                            }
                        ],
                    }
                ],
            },
        }
    }


def test_omni_create_and_read_back(sdk) -> None:  # type: ignore[no-untyped-def]
    list_id = _list(sdk)
    created = sdk.Campaigns.create_campaign(_omni_body("Spring sale", list_id, from_email="a@shop.example"))
    assert created.data.type == "campaign"
    assert created.data.attributes.definition.name == "Spring sale"
    assert created.data.attributes.definition.archived is False
    campaign_id = created.data.id
    fetched = sdk.Campaigns.get_campaign(campaign_id)
    assert fetched.data.attributes.definition.name == "Spring sale"
    assert fetched.data.attributes.definition.send_settings.send_timezone == "UTC"
    message_ids = [m.id for m in fetched.data.relationships.campaign_messages.data]
    assert len(message_ids) == 1
    message = sdk.Campaigns.get_campaign_message(message_ids[0])
    assert message.data.attributes.definition.name == "First"
    assert message.data.attributes.definition.status == "draft"
    assert message.data.attributes.created is not None
    listed = sdk.Campaigns.get_campaigns()
    assert campaign_id in [c.id for c in listed.data]


def test_stable_body_through_the_sdk_is_read_in_both_shapes(sdk, shop: Shop) -> None:  # type: ignore[no-untyped-def]
    list_id = _list(sdk)
    response = shop.create({"name": "Stable one", "audiences": {"included": [list_id]}})
    assert response.status_code == 201, response.text
    campaign_id = response.json()["data"]["id"]
    fetched = sdk.Campaigns.get_campaign(campaign_id, include=["campaign-messages"])
    assert fetched.data.attributes.definition.name == "Stable one"
    assert fetched.data.attributes.definition.send_settings.send_strategy == "static"
    assert (
        fetched.included
        and fetched.included[0]["attributes"]["definition"]["content"]["subject"] == "Our launch"
    )


def test_update_clone_delete(sdk) -> None:  # type: ignore[no-untyped-def]
    list_id = _list(sdk)
    campaign_id = sdk.Campaigns.create_campaign(_omni_body("Old name", list_id)).data.id
    body = {
        "data": {"type": "campaign", "id": campaign_id, "attributes": {"definition": {"name": "New name"}}}
    }
    updated = sdk.Campaigns.update_campaign(campaign_id, body)
    assert updated.data.attributes.definition.name == "New name"
    clone = sdk.Campaigns.clone_campaign(
        {"data": {"type": "campaign", "id": campaign_id, "attributes": {"name": "Copy"}}}
    )
    assert clone.data.id != campaign_id
    assert clone.data.attributes.definition.name == "Copy"
    sdk.Campaigns.delete_campaign(campaign_id)
    with pytest.raises(NotFoundException):
        sdk.Campaigns.get_campaign(campaign_id)
    assert sdk.Campaigns.get_campaign(clone.data.id).data.attributes.definition.name == "Copy"


def test_messages_templates_and_relationships(sdk) -> None:  # type: ignore[no-untyped-def]
    list_id = _list(sdk)
    template = sdk.Templates.create_template(
        {
            "data": {
                "type": "template",
                "attributes": {"name": "T", "editor_type": "CODE", "html": "<p>Hi {{ first_name }}</p>"},
            }
        }
    )
    campaign_id = sdk.Campaigns.create_campaign(_omni_body("With template", list_id)).data.id
    ids = sdk.Campaigns.get_message_ids_for_campaign(campaign_id)
    message_id = ids.data[0].id
    assigned = sdk.Campaigns.assign_template_to_campaign_message(
        {
            "data": {
                "type": "campaign-message",
                "id": message_id,
                "relationships": {"template": {"data": {"type": "template", "id": template.data.id}}},
            }
        }
    )
    assert assigned.data.attributes.channel == "email"
    assert assigned.data.attributes.content["subject"] == "Hi"
    copy = sdk.Campaigns.get_template_for_campaign_message(message_id)
    assert copy.data.attributes.html == "<p>Hi {{ first_name }}</p>"
    assert copy.data.id != template.data.id
    assert sdk.Campaigns.get_template_id_for_campaign_message(message_id).data.id == copy.data.id
    owner = sdk.Campaigns.get_campaign_for_campaign_message(message_id)
    assert owner.data.id == campaign_id
    assert sdk.Campaigns.get_campaign_id_for_campaign_message(message_id).data.id == campaign_id
    messages = sdk.Campaigns.get_messages_for_campaign(campaign_id)
    assert [m.id for m in messages.data] == [message_id]
    assert sdk.Campaigns.get_tags_for_campaign(campaign_id).data == []
    assert sdk.Campaigns.get_tag_ids_for_campaign(campaign_id).data == []
    body = {
        "data": {
            "type": "campaign-message",
            "id": message_id,
            "attributes": {
                "definition": {"name": "Renamed", "tracking_options": {"is_tracking_opens": False}}
            },
        }
    }
    updated = sdk.Campaigns.update_campaign_message(message_id, body)
    assert updated.data.attributes.definition.name == "Renamed"
    assert updated.data.attributes.definition.tracking_options.is_tracking_opens is False


def test_unknown_audience_is_a_400_at_its_pointer(sdk) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadRequestException) as info:
        sdk.Campaigns.create_campaign(_omni_body("Nobody", "XXXXXX"))
    error = json.loads(info.value.body)["errors"][0]
    assert error["source"]["pointer"] == "/data/attributes/audiences/0/included/0"


def test_unknown_campaign_is_a_404(sdk) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFoundException):
        sdk.Campaigns.get_campaign("01ARZ3NDEKTSV4RRFFQ69G5FAV")
    with pytest.raises(NotFoundException):
        sdk.Campaigns.get_campaign_message("01ARZ3NDEKTSV4RRFFQ69G5FAV")


def test_sms_campaign_and_archiving(sdk, shop: Shop) -> None:  # type: ignore[no-untyped-def]
    list_id = _list(sdk)
    body = _omni_body("Texts", list_id)
    body["data"]["attributes"]["messages"][0]["variations"][0]["definition"]["details"] = {
        "channel": "sms",
        "body": "Hi {{ first_name }}",
        "add_opt_out_language": True,
    }
    created = sdk.Campaigns.create_campaign(body)
    campaign_id = created.data.id
    message_id = created.data.relationships.campaign_messages.data[0].id
    assert sdk.Campaigns.get_campaign_message(message_id).data.attributes.definition.status == "draft"
    definition = shop.request("GET", f"/api/campaign-messages/{message_id}").json()["data"]["attributes"][
        "definition"
    ]
    assert definition["channel"] == "sms" and definition["content"]["body"] == "Hi {{ first_name }}"
    assert definition["render_options"]["add_opt_out_language"] is True
    archive = {
        "data": {"type": "campaign", "id": campaign_id, "attributes": {"definition": {"archived": True}}}
    }
    assert sdk.Campaigns.update_campaign(campaign_id, archive).data.attributes.definition.archived is True


def test_pages_through_the_sdk(sdk) -> None:  # type: ignore[no-untyped-def]
    list_id = _list(sdk)
    made = [sdk.Campaigns.create_campaign(_omni_body(f"Page {i}", list_id)).data.id for i in range(3)]
    first = sdk.Campaigns.get_campaigns(page_size=2, sort="created_at", include=["campaign-messages"])
    assert [c.id for c in first.data] == made[:2]
    assert len(first.included) == 2
    second = sdk.Campaigns.get_campaigns(page_cursor=first.links.next)
    assert [c.id for c in second.data] == made[2:]
    assert second.links.next is None


def test_omni_template_of_another_account_is_a_404(sdk, other_shop: Shop) -> None:  # type: ignore[no-untyped-def]
    theirs = other_shop.make_template()
    with pytest.raises(NotFoundException) as info:
        sdk.Campaigns.create_campaign(_omni_body("Theirs", _list(sdk), template_id=theirs))
    pointer = "/data/attributes/messages/0/variations/0/definition/details/template_id"
    assert json.loads(info.value.body)["errors"][0]["source"]["pointer"] == pointer


def test_variations_carry_the_message_content(sdk, shop: Shop) -> None:  # type: ignore[no-untyped-def]
    campaign = sdk.Campaigns.create_campaign(_omni_body("Variations", _list(sdk), preview_text="Soon"))
    message_id = campaign.data.relationships.campaign_messages.data[0].id
    variations = sdk.Campaigns.get_variations_for_campaign_message(message_id)
    assert [v.id for v in variations.data] == [message_id]
    assert sdk.Campaigns.get_variation_ids_for_campaign_message(message_id).data[0].id == message_id
    variation = sdk.Campaigns.get_campaign_variation(message_id)
    assert variation.data.attributes.definition.details["subject"] == "Hi"
    assert variation.data.attributes.definition.details["preview_text"] == "Soon"
    template = shop.make_template("<p>Variation</p>")
    body = {
        "data": {
            "type": "campaign-variation",
            "id": message_id,
            "attributes": {
                "definition": {
                    "name": "B",
                    "details": {"channel": "email", "subject": "New", "template_id": template},
                }
            },
        }
    }
    updated = sdk.Campaigns.update_campaign_variation(message_id, body)
    details = updated.data.attributes.definition.details
    assert details["subject"] == "New" and details["preview_text"] == "Soon"
    assert details["template_id"] not in (None, template)  # the message's own copy
    copy = sdk.Campaigns.get_template_for_campaign_message(message_id)
    assert copy.data.attributes.html == "<p>Variation</p>"
    assert sdk.Campaigns.get_message_for_campaign_variation(message_id).data.id == message_id
    assert sdk.Campaigns.get_message_id_for_campaign_variation(message_id).data.id == message_id
    stable = shop.request("GET", f"/api/campaign-messages/{message_id}").json()["data"]["attributes"]
    assert stable["definition"]["content"]["subject"] == "New" and stable["definition"]["label"] == "B"
    body["data"]["attributes"]["definition"]["details"] = {"channel": "sms", "body": "x"}
    with pytest.raises(BadRequestException) as info:
        sdk.Campaigns.update_campaign_variation(message_id, body)
    assert (
        json.loads(info.value.body)["errors"][0]["source"]["pointer"]
        == "/data/attributes/definition/details/channel"
    )


def test_the_audience_of_a_campaign(sdk, shop: Shop, other_shop: Shop) -> None:  # type: ignore[no-untyped-def]
    first, second = _list(sdk, "First"), _list(sdk, "Second")
    campaign = sdk.Campaigns.create_campaign(_omni_body("Audience", first))
    campaign_id = campaign.data.id
    message_id = campaign.data.relationships.campaign_messages.data[0].id
    assert [a.id for a in campaign.data.relationships.campaign_audiences.data] == [campaign_id]
    audience = sdk.Campaigns.get_campaign_audience(campaign_id)
    assert audience.data.attributes.definition.included == [first]
    assert audience.data.attributes.definition.excluded == []
    assert [m.id for m in audience.data.relationships.campaign_messages.data] == [message_id]
    assert [a.id for a in sdk.Campaigns.get_campaign_audiences_for_campaign(campaign_id).data] == [
        campaign_id
    ]
    assert sdk.Campaigns.get_audience_ids_for_campaign(campaign_id).data[0].id == campaign_id
    assert sdk.Campaigns.get_audience_for_campaign_message(message_id).data.id == campaign_id
    assert sdk.Campaigns.get_audience_id_for_campaign_message(message_id).data.id == campaign_id
    assert sdk.Campaigns.get_campaign_for_campaign_audience(campaign_id).data.id == campaign_id
    assert sdk.Campaigns.get_campaign_id_for_campaign_audience(campaign_id).data.id == campaign_id
    assert [m.id for m in sdk.Campaigns.get_campaign_messages_for_campaign_audience(campaign_id).data] == [
        message_id
    ]
    assert sdk.Campaigns.get_message_ids_for_campaign_audience(campaign_id).data[0].id == message_id
    body = {
        "data": {
            "type": "campaign-audience",
            "id": campaign_id,
            "attributes": {"definition": {"name": "Both", "included": [first, second], "excluded": []}},
        }
    }
    updated = sdk.Campaigns.update_campaign_audience(campaign_id, body)
    assert updated.data.attributes.definition.included == [first, second]
    assert updated.data.attributes.definition.name == "Both"
    stable = shop.request("GET", f"/api/campaigns/{campaign_id}").json()["data"]["attributes"]["audiences"]
    assert stable == {"included": [first, second], "excluded": []}
    body["data"]["attributes"]["definition"] = {"excluded": [other_shop.make_list()]}
    with pytest.raises(BadRequestException) as info:
        sdk.Campaigns.update_campaign_audience(campaign_id, body)
    assert (
        json.loads(info.value.body)["errors"][0]["source"]["pointer"]
        == "/data/attributes/definition/excluded/0"
    )


def test_the_omni_listing_of_messages(sdk) -> None:  # type: ignore[no-untyped-def]
    list_id = _list(sdk)
    made = [sdk.Campaigns.create_campaign(_omni_body(f"Listing {i}", list_id)) for i in range(3)]
    message_ids = [c.data.relationships.campaign_messages.data[0].id for c in made]
    everything = sdk.Campaigns.get_campaign_messages()
    assert [m.id for m in everything.data] == message_ids
    one = sdk.Campaigns.get_campaign_messages(
        filter=f'equals(campaign_id,"{made[1].data.id}")', include=["campaign"]
    )
    assert [m.id for m in one.data] == [message_ids[1]]
    assert [c.id for c in one.included] == [made[1].data.id]
    drafts = sdk.Campaigns.get_campaign_messages(
        filter='equals(status,"draft")', sort="-created", page_size=2
    )
    assert [m.id for m in drafts.data] == message_ids[::-1][:2]
    following = sdk.Campaigns.get_campaign_messages(page_cursor=drafts.links.next)
    assert [m.id for m in following.data] == message_ids[:1]
    assert sdk.Campaigns.get_campaign_messages(filter='equals(status,"sent")').data == []


def test_omni_filters_includes_and_sparse_fieldsets(sdk, shop: Shop) -> None:  # type: ignore[no-untyped-def]
    list_id = _list(sdk)
    wizard = sdk.Campaigns.create_campaign(_omni_body("Wizard", list_id)).data.id
    canvas_body = _omni_body("Canvas", list_id)
    canvas_body["data"]["attributes"]["definition"]["builder"] = "canvas"
    canvas = sdk.Campaigns.create_campaign(canvas_body).data.id
    assert [c.id for c in sdk.Campaigns.get_campaigns(filter='equals(builder,"canvas")').data] == [canvas]
    assert [c.id for c in sdk.Campaigns.get_campaigns(filter='equals(builder,"wizard")').data] == [wizard]
    both = sdk.Campaigns.get_campaign(canvas, include=["campaign-audiences", "campaign-messages"])
    assert {item["type"] for item in both.included} == {"campaign-audience", "campaign-message"}
    sparse = sdk.Campaigns.get_campaign(canvas, fields_campaign=["definition.name", "definition.builder"])
    assert sparse["data"]["attributes"] == {"definition": {"name": "Canvas", "builder": "canvas"}}
    message_id = both.data.relationships.campaign_messages.data[0].id
    message = sdk.Campaigns.get_campaign_message(message_id, include=["campaign-variations"])
    assert [item["id"] for item in message.included] == [message_id]
    assert message.included[0]["type"] == "campaign-variation"
    stable = shop.request(
        "GET",
        "/api/campaigns",
        params={"filter": "equals(messages.channel,'email'),equals(builder,'canvas')"},
    )
    assert [c["id"] for c in stable.json()["data"]] == [canvas]


def _image(sdk: Any, name: str = "logo") -> str:
    out = io.BytesIO()
    PILImage.new("RGB", (3, 2), "red").save(out, format="PNG")
    uri = f"data:image/png;base64,{base64.b64encode(out.getvalue()).decode()}"
    attributes = {"import_from_url": uri, "name": name}
    return str(
        sdk.Images.upload_image_from_url({"data": {"type": "image", "attributes": attributes}}).data.id
    )


def _sms_campaign(sdk: Any) -> str:
    body = _omni_body("Texts", _list(sdk))
    body["data"]["attributes"]["messages"][0]["variations"][0]["definition"]["details"] = {
        "channel": "sms",
        "body": "Sale today",
    }
    campaign = sdk.Campaigns.create_campaign(body)
    return str(campaign.data.relationships.campaign_messages.data[0].id)


def test_a_message_shows_an_image(sdk, shop: Shop) -> None:  # type: ignore[no-untyped-def]
    message_id = _sms_campaign(sdk)
    assert sdk.Campaigns.get_image_for_campaign_message(message_id).data is None
    assert sdk.Campaigns.get_image_id_for_campaign_message(message_id).data is None
    image_id = _image(sdk)
    sdk.Campaigns.update_image_for_campaign_message(message_id, {"data": {"type": "image", "id": image_id}})
    image = sdk.Campaigns.get_image_for_campaign_message(message_id).data
    assert image.id == image_id and image.attributes.name == "logo" and image.attributes.format == "png"
    assert sdk.Campaigns.get_image_id_for_campaign_message(message_id).data.id == image_id
    # SDK 25's message has no image relationship (its variations do): read the stable shape.
    message = shop.request("GET", f"/api/campaign-messages/{message_id}", params={"include": "image"}).json()
    assert message["data"]["relationships"]["image"]["data"]["id"] == image_id
    assert [(i["type"], i["id"]) for i in message["included"]] == [("image", image_id)]
    # The stable update names another image, then none.
    other_id = _image(sdk, "banner")
    update = {"data": {"type": "campaign-message", "id": message_id, "attributes": {}}}
    update["data"]["relationships"] = {"image": {"data": {"type": "image", "id": other_id}}}
    response = shop.request("PATCH", f"/api/campaign-messages/{message_id}", json=update)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["relationships"]["image"]["data"]["id"] == other_id
    update["data"]["relationships"] = {"image": {"data": None}}
    response = shop.request("PATCH", f"/api/campaign-messages/{message_id}", json=update)
    assert response.json()["data"]["relationships"]["image"]["data"] is None
    assert sdk.Campaigns.get_image_for_campaign_message(message_id).data is None


def test_an_image_on_create_and_what_is_refused(
    sdk, shop: Shop, other_shop: Shop, server, other_account
) -> None:  # type: ignore[no-untyped-def]
    from klaviyo_api import KlaviyoAPI

    list_id = _list(sdk)
    mine = _image(sdk)
    theirs = _image(KlaviyoAPI(api_key=other_account.private_key, test_host=server.url, max_retries=0))
    sms = {"channel": "sms", "content": {"body": "Hi"}}

    def create(definition: dict[str, Any], image_id: str) -> Any:
        message = {
            "type": "campaign-message",
            "attributes": {"definition": definition},
            "relationships": {"image": {"data": {"type": "image", "id": image_id}}},
        }
        attributes = {"name": "With image", "audiences": {"included": [list_id]}}
        body = {
            "data": {
                "type": "campaign",
                "attributes": {**attributes, "campaign-messages": {"data": [message]}},
            }
        }
        return shop.request("POST", "/api/campaigns", json=body)

    created = create(sms, mine)
    assert created.status_code == 201, created.text
    message_id = created.json()["data"]["relationships"]["campaign-messages"]["data"][0]["id"]
    assert sdk.Campaigns.get_image_id_for_campaign_message(message_id).data.id == mine
    pointer = "/data/attributes/campaign-messages/data/0/relationships/image/data/id"
    refused = create(sms, theirs)  # another account's image: as if it did not exist
    assert refused.status_code == 404
    assert refused.json()["errors"][0]["source"]["pointer"] == pointer
    email = {"channel": "email", "label": "L", "content": {"subject": "S"}}
    refused = create(email, mine)  # the spec: images are for SMS and push messages
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["source"]["pointer"] == pointer
    with pytest.raises(NotFoundException) as info:
        sdk.Campaigns.update_image_for_campaign_message(message_id, {"data": {"type": "image", "id": theirs}})
    assert json.loads(info.value.body)["errors"][0]["source"]["pointer"] == "/data/id"
    assert sdk.Campaigns.get_image_id_for_campaign_message(message_id).data.id == mine
    # Another account cannot see the message, nor its image.
    assert other_shop.request("GET", f"/api/campaign-messages/{message_id}/image").status_code == 404
