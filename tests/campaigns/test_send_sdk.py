"""Send jobs and recipient estimations through the official Python SDK 25."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_client.exceptions import BadRequestException, NotFoundException

from tests.campaigns.conftest import Shop
from tests.campaigns.sendkit import people, sendable
from tidings.db.session import Database
from tidings.jobs.worker import drain


def test_send_read_cancel_and_estimate_through_the_sdk(sdk: Any, shop: Shop, db: Database) -> None:
    list_id = shop.make_list()
    people(db, shop.keys.id, list_id, [{"email": f"sdk{n}@example.com"} for n in range(3)])
    campaign = sendable(shop, {"name": "SDK send", "audiences": {"included": [list_id]}})
    campaign_id = campaign["id"]

    estimation = sdk.Campaigns.create_campaign_recipient_estimation_job(
        {"data": {"type": "campaign-recipient-estimation-job", "id": campaign_id}}
    )
    assert estimation.data.id == campaign_id and estimation.data.attributes.status == "queued"
    drain(db)
    assert (
        sdk.Campaigns.get_campaign_recipient_estimation_job(campaign_id).data.attributes.status == "complete"
    )
    counted = sdk.Campaigns.get_campaign_recipient_estimation(campaign_id)
    assert counted.data.attributes.estimated_recipient_count == 3

    job = sdk.Campaigns.create_campaign_send_job({"data": {"type": "campaign-send-job", "id": campaign_id}})
    assert job.data.id == campaign_id and job.data.attributes.status == "queued"
    drain(db)
    read = sdk.Campaigns.get_campaign_send_job(campaign_id)
    assert read.data.attributes.status == "processing"
    assert sdk.Campaigns.get_campaign(campaign_id).data.attributes.definition.name == "SDK send"
    with pytest.raises(BadRequestException):  # sending: no revert, only cancel
        sdk.Campaigns.cancel_campaign_send(
            campaign_id,
            {"data": {"type": "campaign-send-job", "id": campaign_id, "attributes": {"action": "revert"}}},
        )
    sdk.Campaigns.cancel_campaign_send(
        campaign_id,
        {"data": {"type": "campaign-send-job", "id": campaign_id, "attributes": {"action": "cancel"}}},
    )
    assert sdk.Campaigns.get_campaign_send_job(campaign_id).data.attributes.status == "cancelled"
    message = sdk.Campaigns.get_messages_for_campaign(campaign_id).data[0]
    assert message.attributes.definition.status == "cancelled"
    with pytest.raises(NotFoundException):
        sdk.Campaigns.get_campaign_send_job("01HZZZZZZZZZZZZZZZZZZZZZZZ")
    ids = sdk.Campaigns.get_message_ids_for_campaign(campaign_id)
    assert [m.id for m in ids.data] == [campaign["message"]]
