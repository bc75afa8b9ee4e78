"""Scheduling campaigns in the omni shape (SDK 25): `schedule_campaign`
(POST /api/campaign-schedule), `schedule_campaign_message` (POST /api/campaign-message-schedule)
and `update_campaign_message_schedule` (PATCH /api/campaign-message-schedule/{id}). These
operations are not in stable.json, so they are declared here (`scheduling.py` says what they do).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response

from tidings.campaigns import scheduling
from tidings.campaigns.schemas import parse
from tidings.campaigns.schemas_jobs import CampaignSchedule, MessageScheduleCreate, MessageScheduleUpdate
from tidings.campaigns.service import same_id
from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, single
from tidings.jsonapi.spec import Operation

router = APIRouter(prefix="/api", tags=["Campaigns"])

SCHEDULE_CAMPAIGN = Operation(
    "schedule_campaign", "POST", "/api/campaign-schedule", "Campaigns", ("campaigns:write",), 10, 150
)
SCHEDULE_MESSAGE = Operation(
    "schedule_campaign_message",
    "POST",
    "/api/campaign-message-schedule",
    "Campaigns",
    ("campaigns:write",),
    10,
    150,
)
UPDATE_MESSAGE_SCHEDULE = Operation(
    "update_campaign_message_schedule",
    "PATCH",
    "/api/campaign-message-schedule/{id}",
    "Campaigns",
    ("campaigns:write",),
    10,
    150,
)
OPERATIONS = (SCHEDULE_CAMPAIGN, SCHEDULE_MESSAGE, UPDATE_MESSAGE_SCHEDULE)


@router.post("/campaign-schedule", operation_id=SCHEDULE_CAMPAIGN.operation_id, status_code=201)
def schedule_campaign(body: Any = Body(...), ctx: ApiContext = api(SCHEDULE_CAMPAIGN)) -> JSONAPIResponse:
    document = parse(CampaignSchedule, body)
    campaign_id = document.data.relationships.campaign.data.id
    job, scheduled = scheduling.schedule_campaign(
        ctx.session, ctx.account_id, campaign_id, document.data.attributes.message_schedules
    )
    messages = [{"id": s.message_id, **s.attributes()} for s in scheduled]
    self_url = ctx.urls.resource("campaign-send-jobs", job.id)
    data: dict[str, Any] = {
        "type": "campaign-schedule",
        "id": job.id,  # the send job's, which is the campaign's
        "attributes": {"messages": messages},
        "relationships": {"campaign": {"data": {"type": "campaign", "id": campaign_id}}},
        "links": {"self": self_url},
    }
    return JSONAPIResponse(single(data, self_url), status_code=201)


@router.post("/campaign-message-schedule", operation_id=SCHEDULE_MESSAGE.operation_id, status_code=201)
def schedule_campaign_message(
    body: Any = Body(...), ctx: ApiContext = api(SCHEDULE_MESSAGE)
) -> JSONAPIResponse:
    document = parse(MessageScheduleCreate, body)
    message_id = document.data.relationships.campaign_message.data.id
    _job, scheduled = scheduling.schedule_message(
        ctx.session, ctx.account_id, message_id, document.data.attributes
    )
    self_url = ctx.urls.resource("campaign-message-schedule", message_id)
    data: dict[str, Any] = {
        "type": "campaign-message-schedule",
        "id": message_id,
        "attributes": scheduled.attributes(),
        "relationships": {
            "campaign-message": {"data": {"type": "campaign-message", "id": message_id}},
        },
        "links": {"self": self_url},
    }
    return JSONAPIResponse(single(data, self_url), status_code=201)


@router.patch(
    "/campaign-message-schedule/{id}", operation_id=UPDATE_MESSAGE_SCHEDULE.operation_id, status_code=204
)
def update_campaign_message_schedule(
    id: str, body: Any = Body(...), ctx: ApiContext = api(UPDATE_MESSAGE_SCHEDULE)
) -> Response:
    document = parse(MessageScheduleUpdate, body)
    same_id(id, document.data.id)
    scheduling.update_message_schedule(ctx.session, ctx.account_id, id, document.data.attributes.action)
    return Response(status_code=204)
