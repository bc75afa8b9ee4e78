"""The 26 tag operations through the official SDK (TagsApi), unmodified, against a live server;
and the tags of lists, segments and campaigns through their own APIs."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_client.exceptions import NotFoundException

from tests.campaigns.conftest import EMAIL, STABLE


def _tag(sdk: Any, name: str, group: str | None = None) -> str:
    body: dict[str, Any] = {"data": {"type": "tag", "attributes": {"name": name}}}
    if group:
        body["data"]["relationships"] = {"tag-group": {"data": {"type": "tag-group", "id": group}}}
    return str(sdk.Tags.create_tag(body).data.id)


def _group(sdk: Any, name: str, exclusive: bool = False) -> str:
    body = {"data": {"type": "tag-group", "attributes": {"name": name, "exclusive": exclusive}}}
    return str(sdk.Tags.create_tag_group(body).data.id)


def _list(sdk: Any, name: str) -> str:
    return str(sdk.Lists.create_list({"data": {"type": "list", "attributes": {"name": name}}}).data.id)


def _segment(sdk: Any, name: str) -> str:
    condition = {
        "type": "profile-property",
        "property": "email",
        "filter": {"type": "existence", "operator": "is-set"},
    }
    body = {
        "data": {
            "type": "segment",
            "attributes": {"name": name, "definition": {"condition_groups": [{"conditions": [condition]}]}},
        }
    }
    return str(sdk.Segments.create_segment(body).data.id)


def _campaign(client: Any, account: Any, list_id: str) -> str:
    """Made in the stable shape over HTTP (the SDK 25 speaks only the omni one)."""
    message = {"type": "campaign-message", "attributes": {"definition": EMAIL}}
    body = {
        "data": {
            "type": "campaign",
            "attributes": {
                "name": "Tagged campaign",
                "audiences": {"included": [list_id]},
                "campaign-messages": {"data": [message]},
            },
        }
    }
    response = client.post("/api/campaigns", json=body, headers=account.headers(STABLE))
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def test_every_account_has_one_default_tag_group(sdk) -> None:
    groups = sdk.Tags.get_tag_groups().data
    assert [(g.attributes.name, g.attributes.default, g.attributes.exclusive) for g in groups] == [
        ("Default Tag Group", True, False)
    ]
    default = sdk.Tags.get_tag_groups(filter="equals(default,true)").data
    assert [g.id for g in default] == [groups[0].id]
    assert sdk.Tags.get_tag_groups(filter="equals(default,false)").data == []


def test_tags_and_tag_groups_round_trip(sdk) -> None:
    default = sdk.Tags.get_tag_groups().data[0].id
    plain = _tag(sdk, "Newsletter")
    assert sdk.Tags.get_tag_group_id_for_tag(plain).data.id == default
    assert sdk.Tags.get_tag_group_for_tag(plain).data.attributes.default is True

    season = _group(sdk, "Season", exclusive=True)
    fetched = sdk.Tags.get_tag_group(season).data
    assert (fetched.attributes.name, fetched.attributes.exclusive, fetched.attributes.default) == (
        "Season",
        True,
        False,
    )
    summer = _tag(sdk, "Summer", season)
    winter = _tag(sdk, "Winter", season)
    assert sdk.Tags.get_tag(summer).data.relationships.tag_group.data.id == season
    assert sorted(t.id for t in sdk.Tags.get_tags_for_tag_group(season).data) == sorted([summer, winter])
    assert sorted(t.id for t in sdk.Tags.get_tag_ids_for_tag_group(season).data) == sorted([summer, winter])

    assert (
        sdk.Tags.update_tag(summer, {"data": {"type": "tag", "id": summer, "attributes": {"name": "Sun"}}})
        is None
    )
    assert sdk.Tags.get_tag(summer).data.attributes.name == "Sun"
    body = {"data": {"type": "tag-group", "id": season, "attributes": {"name": "Seasons"}}}
    assert sdk.Tags.update_tag_group(season, body) is None
    assert sdk.Tags.get_tag_group(season).data.attributes.name == "Seasons"

    names = [t.attributes.name for t in sdk.Tags.get_tags(sort="-name").data]
    assert names == ["Winter", "Sun", "Newsletter"]
    found = sdk.Tags.get_tags(filter="starts-with(name,'Su')", include=["tag-group"])
    assert [t.id for t in found.data] == [summer]
    assert [g.id for g in found.included] == [season]
    single = sdk.Tags.get_tag(winter, include=["tag-group"])
    assert [g.attributes.name for g in single.included] == ["Seasons"]

    assert sdk.Tags.delete_tag(winter) is None
    with pytest.raises(NotFoundException):
        sdk.Tags.get_tag(winter)
    assert sdk.Tags.delete_tag_group(season) is None  # its tags go with it
    with pytest.raises(NotFoundException):
        sdk.Tags.get_tag(summer)
    assert [t.id for t in sdk.Tags.get_tags().data] == [plain]


def test_tagging_lists_segments_and_campaigns(sdk, client, account) -> None:
    tag = _tag(sdk, "VIP")
    other = _tag(sdk, "Archive")
    list_id = _list(sdk, "Customers")
    segment_id = _segment(sdk, "Emails")
    campaign_id = _campaign(client, account, list_id)

    assert sdk.Tags.tag_lists(tag, {"data": [{"type": "list", "id": list_id}]}) is None
    assert sdk.Tags.tag_lists(tag, {"data": [{"type": "list", "id": list_id}]}) is None  # twice: once
    assert sdk.Tags.tag_segments(tag, {"data": [{"type": "segment", "id": segment_id}]}) is None
    assert sdk.Tags.tag_campaigns(tag, {"data": [{"type": "campaign", "id": campaign_id}]}) is None
    assert sdk.Tags.tag_campaigns(other, {"data": [{"type": "campaign", "id": campaign_id}]}) is None

    assert [x.id for x in sdk.Tags.get_list_ids_for_tag(tag).data] == [list_id]
    assert [x.id for x in sdk.Tags.get_segment_ids_for_tag(tag).data] == [segment_id]
    assert [x.id for x in sdk.Tags.get_campaign_ids_for_tag(tag).data] == [campaign_id]
    assert sdk.Tags.get_flow_ids_for_tag(tag).data == []

    # The resources' side: their tag routes and include=tags.
    assert [t.id for t in sdk.Lists.get_tags_for_list(list_id).data] == [tag]
    assert [t.id for t in sdk.Lists.get_tag_ids_for_list(list_id).data] == [tag]
    assert [t.id for t in sdk.Segments.get_tags_for_segment(segment_id).data] == [tag]
    assert [t.id for t in sdk.Segments.get_tag_ids_for_segment(segment_id).data] == [tag]
    assert sorted(t.attributes.name for t in sdk.Campaigns.get_tags_for_campaign(campaign_id).data) == [
        "Archive",
        "VIP",
    ]
    assert len(sdk.Campaigns.get_tag_ids_for_campaign(campaign_id).data) == 2
    listed = sdk.Lists.get_lists(include=["tags"], fields_tag=["name"])  # sparse: the SDK answers a dict
    assert [r["id"] for r in listed["data"][0]["relationships"]["tags"]["data"]] == [tag]
    assert [t["attributes"] for t in listed["included"]] == [{"name": "VIP"}]
    one = sdk.Segments.get_segment(segment_id, include=["tags"])
    assert [r.id for r in one.data.relationships.tags.data] == [tag]
    campaign = sdk.Campaigns.get_campaign(campaign_id, include=["tags"])
    assert sorted(r.id for r in campaign.data.relationships.tags.data) == sorted([tag, other])
    # The SDK leaves a campaign's included resources as dicts (they may be of several types).
    assert sorted(t["id"] for t in campaign.included) == sorted([tag, other])

    assert sdk.Tags.remove_tag_from_lists(tag, {"data": [{"type": "list", "id": list_id}]}) is None
    assert sdk.Tags.remove_tag_from_segments(tag, {"data": [{"type": "segment", "id": segment_id}]}) is None
    assert (
        sdk.Tags.remove_tag_from_campaigns(tag, {"data": [{"type": "campaign", "id": campaign_id}]}) is None
    )
    assert sdk.Tags.get_list_ids_for_tag(tag).data == []
    assert sdk.Tags.get_segment_ids_for_tag(tag).data == []
    assert [t.id for t in sdk.Campaigns.get_tag_ids_for_campaign(campaign_id).data] == [other]


def test_an_unknown_flow_id_is_a_404(sdk) -> None:
    tag = _tag(sdk, "Flows")
    with pytest.raises(NotFoundException) as raised:
        sdk.Tags.tag_flows(tag, {"data": [{"type": "flow", "id": "XyZ123"}]})
    assert raised.value.status == 404
    with pytest.raises(NotFoundException):
        sdk.Tags.remove_tag_from_flows(tag, {"data": [{"type": "flow", "id": "XyZ123"}]})
    assert sdk.Tags.get_flow_ids_for_tag(tag).data == []
