"""Scheduling in the omni shape through the official Python SDK 25: schedule_campaign,
schedule_campaign_message and update_campaign_message_schedule."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from openapi_client.exceptions import BadRequestException, NotFoundException

from tests.campaigns.conftest import Shop
from tests.campaigns.sendkit import people, rows, sendable, status
from tidings.db.base import utcnow
from tidings.db.session import Database
from tidings.jobs.worker import drain


def _campaign_schedule(campaign_id: str, *schedules: dict[str, Any]) -> dict[str, Any]:
    return {
        "data": {
            "type": "campaign-schedule",
            "attributes": {"message_schedules": list(schedules)},
            "relationships": {"campaign": {"data": {"type": "campaign", "id": campaign_id}}},
        }
    }


def _message_schedule(message_id: str, **attributes: Any) -> dict[str, Any]:
    return {
        "data": {
            "type": "campaign-message-schedule",
            "attributes": attributes,
            "relationships": {"campaign-message": {"data": {"type": "campaign-message", "id": message_id}}},
        }
    }


def _pointer(error: Any) -> str:
    return str(json.loads(error.value.body)["errors"][0]["source"]["pointer"])


def test_schedule_a_campaign_at_a_time(sdk: Any, shop: Shop, db: Database) -> None:
    list_id = shop.make_list()
    people(db, shop.keys.id, list_id, [{"email": f"s{n}@example.com"} for n in range(2)])
    campaign = sendable(shop, {"name": "Later", "audiences": {"included": [list_id]}})
    at = (utcnow() + dt.timedelta(days=2)).replace(microsecond=0)
    scheduled = sdk.Campaigns.schedule_campaign(
        _campaign_schedule(
            campaign["id"],
            {"message_id": campaign["message"], "strategy": "static", "send_time": at.isoformat()},
        )
    )
    (result,) = scheduled.data.attributes.messages
    assert result.id == campaign["message"] and result.strategy == "static" and result.send_time == at
    assert status(shop, campaign["id"]) == "Adding Recipients"
    drain(db)
    assert status(shop, campaign["id"]) == "Scheduled"
    planned = rows(db, shop.keys.id, campaign["message"])
    assert len(planned) == 2 and {r.planned_for for r in planned} == {at}
    stable = shop.request("GET", f"/api/campaigns/{campaign['id']}").json()["data"]["attributes"]
    assert stable["send_strategy"]["method"] == "static"
    assert sdk.Campaigns.get_campaign(
        campaign["id"]
    ).data.attributes.definition.send_settings.send_strategy == ("static")
    with pytest.raises(BadRequestException):  # scheduled: not editable, not scheduled again
        sdk.Campaigns.schedule_campaign(
            _campaign_schedule(
                campaign["id"],
                {"message_id": campaign["message"], "strategy": "static", "send_time": at.isoformat()},
            )
        )
    revert = {
        "data": {
            "type": "campaign-message-schedule",
            "id": campaign["message"],
            "attributes": {"action": "revert"},
        }
    }
    sdk.Campaigns.update_campaign_message_schedule(campaign["message"], revert)
    assert status(shop, campaign["id"]) == "Draft"
    assert rows(db, shop.keys.id, campaign["message"]) == []


def test_schedule_a_message_by_each_strategy(sdk: Any, shop: Shop, db: Database) -> None:
    list_id = shop.make_list()
    later = (utcnow() + dt.timedelta(days=3)).replace(microsecond=0)

    def stored(campaign_id: str) -> dict[str, Any]:
        return dict(
            shop.request("GET", f"/api/campaigns/{campaign_id}").json()["data"]["attributes"]["send_strategy"]
        )

    local = sendable(shop, {"name": "Local", "audiences": {"included": [list_id]}})
    answer = sdk.Campaigns.schedule_campaign_message(
        _message_schedule(
            local["message"],
            strategy="local_timezone",
            send_time=later.isoformat(),
            timezone_options={"send_past_timezones_tomorrow": True},
        )
    )
    assert answer.data.id == local["message"] and answer.data.attributes.strategy == "local_timezone"
    assert stored(local["id"])["options"] == {"is_local": True, "send_past_recipients_immediately": False}

    throttled = sendable(shop, {"name": "Throttled", "audiences": {"included": [list_id]}})
    answer = sdk.Campaigns.schedule_campaign_message(
        _message_schedule(
            throttled["message"],
            strategy="throttled",
            send_time=later.isoformat(),
            throttled_options={"throttling_percentage": 25},
        )
    )
    assert (
        answer.data.attributes.throttling_percentage == 25 and answer.data.attributes.throttle_unit == "hour"
    )
    assert stored(throttled["id"])["throttle_percentage"] == 25

    smart = sendable(shop, {"name": "Smart", "audiences": {"included": [list_id]}})
    day = (utcnow() + dt.timedelta(days=2)).date()
    answer = sdk.Campaigns.schedule_campaign_message(
        _message_schedule(smart["message"], strategy="smart_send_time", send_date=day.isoformat())
    )
    assert answer.data.attributes.send_date == day
    assert stored(smart["id"]) == {"method": "smart_send_time", "date": day.isoformat()}
    cancel = {
        "data": {
            "type": "campaign-message-schedule",
            "id": smart["message"],
            "attributes": {"action": "cancel"},
        }
    }
    sdk.Campaigns.update_campaign_message_schedule(smart["message"], cancel)
    assert status(shop, smart["id"]) == "Cancelled"


def test_what_a_schedule_refuses(sdk: Any, shop: Shop, other_shop: Shop) -> None:
    list_id = shop.make_list()
    campaign = sendable(shop, {"name": "Refusals", "audiences": {"included": [list_id]}})
    message_id = campaign["message"]
    later = (utcnow() + dt.timedelta(days=1)).isoformat()
    past = (utcnow() - dt.timedelta(hours=1)).isoformat()
    cases = [
        ({"strategy": "static"}, "/data/attributes/send_time"),
        ({"strategy": "static", "send_time": past}, "/data/attributes/send_time"),
        ({"strategy": "smart_send_time"}, "/data/attributes/send_date"),
        ({"strategy": "throttled", "send_time": later}, "/data/attributes/throttled_options"),
        (
            {
                "strategy": "throttled",
                "send_time": later,
                "throttled_options": {"throttling_percentage": 10, "throttle_unit": "minute"},
            },
            "/data/attributes/throttled_options/throttle_unit",
        ),
    ]
    for attributes, pointer in cases:
        with pytest.raises(BadRequestException) as refused:
            sdk.Campaigns.schedule_campaign_message(_message_schedule(message_id, **attributes))
        assert _pointer(refused) == pointer, attributes
    with pytest.raises(BadRequestException) as refused:
        sdk.Campaigns.schedule_campaign(
            _campaign_schedule(
                campaign["id"],
                {"message_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ", "strategy": "static", "send_time": later},
            )
        )
    assert _pointer(refused) == "/data/attributes/message_schedules/0/message_id"
    assert status(shop, campaign["id"]) == "Draft"  # nothing refused changed anything
    # Another account: A's campaign and message are unknown to it.
    body = _campaign_schedule(
        campaign["id"], {"message_id": message_id, "strategy": "static", "send_time": later}
    )
    theirs = other_shop.request("POST", "/api/campaign-schedule", json=body, revision="2026-10-15")
    assert theirs.status_code == 404
    assert theirs.json()["errors"][0]["source"]["pointer"] == "/data/relationships/campaign/data/id"
    body = _message_schedule(message_id, strategy="static", send_time=later)
    theirs = other_shop.request("POST", "/api/campaign-message-schedule", json=body, revision="2026-10-15")
    assert theirs.status_code == 404
    with pytest.raises(NotFoundException):  # never sent: no send to cancel
        cancel = {
            "data": {
                "type": "campaign-message-schedule",
                "id": message_id,
                "attributes": {"action": "cancel"},
            }
        }
        sdk.Campaigns.update_campaign_message_schedule(message_id, cancel)


def test_create_and_delete_a_message_on_its_own(sdk: Any, shop: Shop, other_shop: Shop, db: Database) -> None:
    list_id = shop.make_list()
    people(db, shop.keys.id, list_id, [{"email": "m@example.com"}])
    body = {
        "data": {
            "type": "campaign",
            "attributes": {
                "definition": {"name": "Empty"},
                "audiences": [{"temporary_id": "a", "included": [list_id]}],
            },
        }
    }
    campaign_id = sdk.Campaigns.create_campaign(body).data.id
    template = shop.make_template("<p>Hi</p>")

    def message_body(audience_id: str, campaign: str = campaign_id) -> dict[str, Any]:
        return {
            "data": {
                "type": "campaign-message",
                "attributes": {
                    "definition": {"name": "Texts", "ab_test": {"winner_percentage": 50}},
                    "variations": [
                        {
                            "definition": {
                                "name": "A",
                                "details": {"channel": "email", "subject": "A", "template_id": template},
                            }
                        },
                        {"definition": {"name": "B", "details": {"channel": "email", "subject": "B"}}},
                    ],
                },
                "relationships": {
                    "campaign": {"data": {"type": "campaign", "id": campaign}},
                    "campaign-audience": {"data": {"type": "campaign-audience", "id": audience_id}},
                },
            }
        }

    with pytest.raises(NotFoundException) as missing:  # the audience must be the campaign's
        sdk.Campaigns.create_campaign_message(message_body("01HZZZZZZZZZZZZZZZZZZZZZZZ"))
    assert _pointer(missing) == "/data/relationships/campaign-audience/data/id"
    theirs = other_shop.request(
        "POST", "/api/campaign-messages", json=message_body(campaign_id), revision="2026-10-15"
    )
    assert theirs.status_code == 404
    assert theirs.json()["errors"][0]["source"]["pointer"] == "/data/relationships/campaign/data/id"
    created = sdk.Campaigns.create_campaign_message(message_body(campaign_id))
    message_id = created.data.id
    assert created.data.attributes.definition.name == "Texts"
    variations = sdk.Campaigns.get_variations_for_campaign_message(message_id).data
    assert [v.attributes.definition.details["subject"] for v in variations] == ["A", "B"]
    with pytest.raises(BadRequestException):  # one message per campaign
        sdk.Campaigns.create_campaign_message(message_body(campaign_id))
    assert theirs.status_code == 404
    assert (
        other_shop.request(
            "DELETE", f"/api/campaign-messages/{message_id}", revision="2026-10-15"
        ).status_code
        == 404
    )
    sdk.Campaigns.delete_campaign_message(message_id)
    with pytest.raises(NotFoundException):
        sdk.Campaigns.get_campaign_message(message_id)
    assert sdk.Campaigns.get_message_ids_for_campaign(campaign_id).data == []
    refused = shop.request(
        "POST", "/api/campaign-send-jobs", json={"data": {"type": "campaign-send-job", "id": campaign_id}}
    )
    assert refused.status_code == 400 and "no message" in refused.json()["errors"][0]["detail"]
    # A new message, then a schedule: the campaign goes out as an A/B test.
    message_id = sdk.Campaigns.create_campaign_message(message_body(campaign_id)).data.id
    later = (utcnow() + dt.timedelta(days=1)).isoformat()
    sdk.Campaigns.schedule_campaign_message(_message_schedule(message_id, strategy="static", send_time=later))
    drain(db)
    assert status(shop, campaign_id) == "Scheduled"
    assert len(rows(db, shop.keys.id, message_id)) == 1
