"""Campaign audiences in the omni shape (the Python SDK 25).

These operations are not in the stable spec (revision 2026-07-15), so they are declared here.
A campaign has one audience, with the campaign's id (`omni.audience_definition`): reading or
changing it reads or changes the campaign's `audiences`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from tidings.campaigns import omni, render, schemas, service
from tidings.campaigns.tables import Campaign
from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, collection, iso, relationship, resource, single
from tidings.jsonapi.spec import Operation

router = APIRouter(prefix="/api", tags=["Campaigns"])


def _operation(operation_id: str, method: str, path: str, scope: str) -> Operation:
    return Operation(operation_id, method, path, "Campaigns", (f"campaigns:{scope}",), 10, 150)


GET_AUDIENCE = _operation("get_campaign_audience", "GET", "/api/campaign-audiences/{id}", "read")
UPDATE_AUDIENCE = _operation("update_campaign_audience", "PATCH", "/api/campaign-audiences/{id}", "write")
AUDIENCES_OF_CAMPAIGN = _operation(
    "get_campaign_audiences_for_campaign", "GET", "/api/campaigns/{id}/campaign-audiences", "read"
)
AUDIENCE_IDS_OF_CAMPAIGN = _operation(
    "get_audience_ids_for_campaign", "GET", "/api/campaigns/{id}/relationships/campaign-audiences", "read"
)
AUDIENCE_OF_MESSAGE = _operation(
    "get_audience_for_campaign_message", "GET", "/api/campaign-messages/{id}/campaign-audience", "read"
)
AUDIENCE_ID_OF_MESSAGE = _operation(
    "get_audience_id_for_campaign_message",
    "GET",
    "/api/campaign-messages/{id}/relationships/campaign-audience",
    "read",
)
CAMPAIGN_OF_AUDIENCE = _operation(
    "get_campaign_for_campaign_audience", "GET", "/api/campaign-audiences/{id}/campaign", "read"
)
CAMPAIGN_ID_OF_AUDIENCE = _operation(
    "get_campaign_id_for_campaign_audience",
    "GET",
    "/api/campaign-audiences/{id}/relationships/campaign",
    "read",
)
MESSAGES_OF_AUDIENCE = _operation(
    "get_campaign_messages_for_campaign_audience",
    "GET",
    "/api/campaign-audiences/{id}/campaign-messages",
    "read",
)
MESSAGE_IDS_OF_AUDIENCE = _operation(
    "get_message_ids_for_campaign_audience",
    "GET",
    "/api/campaign-audiences/{id}/relationships/campaign-messages",
    "read",
)
OPERATIONS = (
    GET_AUDIENCE,
    UPDATE_AUDIENCE,
    AUDIENCES_OF_CAMPAIGN,
    AUDIENCE_IDS_OF_CAMPAIGN,
    AUDIENCE_OF_MESSAGE,
    AUDIENCE_ID_OF_MESSAGE,
    CAMPAIGN_OF_AUDIENCE,
    CAMPAIGN_ID_OF_AUDIENCE,
    MESSAGES_OF_AUDIENCE,
    MESSAGE_IDS_OF_AUDIENCE,
)


def audience_resource(ctx: ApiContext, campaign: Campaign, message_ids: list[str]) -> dict[str, Any]:
    attributes = {
        "created": iso(campaign.created_at),
        "updated": iso(campaign.updated_at),
        "definition": omni.audience_definition(campaign),
    }
    relationships = {
        "campaign": relationship(
            "campaign",
            campaign.id,
            ctx.urls.relationship("campaign-audiences", campaign.id, "campaign"),
            ctx.urls.related("campaign-audiences", campaign.id, "campaign"),
            many=False,
        ),
        "campaign-messages": relationship(
            "campaign-message",
            message_ids,
            ctx.urls.relationship("campaign-audiences", campaign.id, "campaign-messages"),
            ctx.urls.related("campaign-audiences", campaign.id, "campaign-messages"),
            many=True,
        ),
    }
    url = ctx.urls.resource("campaign-audiences", campaign.id)
    fields = ctx.params.fields.get("campaign-audience")
    return resource(
        "campaign-audience", campaign.id, attributes, url, relationships=relationships, fields=fields
    )


def _audience(ctx: ApiContext, campaign: Campaign) -> dict[str, Any]:
    messages = service.messages_of(ctx.session, ctx.account_id, [campaign.id])[campaign.id]
    return audience_resource(ctx, campaign, [message.id for message in messages])


def _campaign_of_message(ctx: ApiContext, message_id: str) -> Campaign:
    message = service.get_message(ctx.session, ctx.account_id, message_id)
    return service.get_campaign(ctx.session, ctx.account_id, message.campaign_id)


@router.get("/campaign-audiences/{id}", operation_id=GET_AUDIENCE.operation_id)
def get_campaign_audience(id: str, ctx: ApiContext = api(GET_AUDIENCE)) -> JSONAPIResponse:
    campaign = service.get_campaign(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(single(_audience(ctx, campaign), ctx.urls.current()))


@router.patch("/campaign-audiences/{id}", operation_id=UPDATE_AUDIENCE.operation_id)
def update_campaign_audience(
    id: str, body: Any = Body(...), ctx: ApiContext = api(UPDATE_AUDIENCE)
) -> JSONAPIResponse:
    service.get_campaign(ctx.session, ctx.account_id, id)  # 404 before 409
    document = schemas.parse(schemas.OmniAudienceUpdateDocument, body)
    service.same_id(id, document.data.id)
    definition = document.data.attributes.definition or schemas.OmniAudienceUpdate()
    campaign = omni.update_audience(ctx.session, ctx.account_id, id, definition)
    return JSONAPIResponse(single(_audience(ctx, campaign), ctx.urls.resource("campaign-audiences", id)))


@router.get("/campaigns/{id}/campaign-audiences", operation_id=AUDIENCES_OF_CAMPAIGN.operation_id)
def get_campaign_audiences_for_campaign(
    id: str, ctx: ApiContext = api(AUDIENCES_OF_CAMPAIGN)
) -> JSONAPIResponse:
    campaign = service.get_campaign(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(collection([_audience(ctx, campaign)], ctx.urls))


@router.get(
    "/campaigns/{id}/relationships/campaign-audiences", operation_id=AUDIENCE_IDS_OF_CAMPAIGN.operation_id
)
def get_audience_ids_for_campaign(
    id: str, ctx: ApiContext = api(AUDIENCE_IDS_OF_CAMPAIGN)
) -> JSONAPIResponse:
    campaign = service.get_campaign(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(collection([{"type": "campaign-audience", "id": campaign.id}], ctx.urls))


@router.get("/campaign-messages/{id}/campaign-audience", operation_id=AUDIENCE_OF_MESSAGE.operation_id)
def get_audience_for_campaign_message(id: str, ctx: ApiContext = api(AUDIENCE_OF_MESSAGE)) -> JSONAPIResponse:
    return JSONAPIResponse(single(_audience(ctx, _campaign_of_message(ctx, id)), ctx.urls.current()))


@router.get(
    "/campaign-messages/{id}/relationships/campaign-audience",
    operation_id=AUDIENCE_ID_OF_MESSAGE.operation_id,
)
def get_audience_id_for_campaign_message(
    id: str, ctx: ApiContext = api(AUDIENCE_ID_OF_MESSAGE)
) -> JSONAPIResponse:
    campaign = _campaign_of_message(ctx, id)
    return JSONAPIResponse(single({"type": "campaign-audience", "id": campaign.id}, ctx.urls.current()))


@router.get("/campaign-audiences/{id}/campaign", operation_id=CAMPAIGN_OF_AUDIENCE.operation_id)
def get_campaign_for_campaign_audience(
    id: str, ctx: ApiContext = api(CAMPAIGN_OF_AUDIENCE)
) -> JSONAPIResponse:
    campaign = service.get_campaign(ctx.session, ctx.account_id, id)
    messages = service.messages_of(ctx.session, ctx.account_id, [id])[id]
    return JSONAPIResponse(single(render.campaign_resource(ctx.urls, campaign, messages), ctx.urls.current()))


@router.get(
    "/campaign-audiences/{id}/relationships/campaign", operation_id=CAMPAIGN_ID_OF_AUDIENCE.operation_id
)
def get_campaign_id_for_campaign_audience(
    id: str, ctx: ApiContext = api(CAMPAIGN_ID_OF_AUDIENCE)
) -> JSONAPIResponse:
    campaign = service.get_campaign(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(single({"type": "campaign", "id": campaign.id}, ctx.urls.current()))


@router.get("/campaign-audiences/{id}/campaign-messages", operation_id=MESSAGES_OF_AUDIENCE.operation_id)
def get_campaign_messages_for_campaign_audience(
    id: str, ctx: ApiContext = api(MESSAGES_OF_AUDIENCE)
) -> JSONAPIResponse:
    campaign = service.get_campaign(ctx.session, ctx.account_id, id)
    messages = service.messages_of(ctx.session, ctx.account_id, [id])[id]
    data = [render.message_resource(ctx.urls, message, campaign) for message in messages]
    return JSONAPIResponse(collection(data, ctx.urls))


@router.get(
    "/campaign-audiences/{id}/relationships/campaign-messages",
    operation_id=MESSAGE_IDS_OF_AUDIENCE.operation_id,
)
def get_message_ids_for_campaign_audience(
    id: str, ctx: ApiContext = api(MESSAGE_IDS_OF_AUDIENCE)
) -> JSONAPIResponse:
    service.get_campaign(ctx.session, ctx.account_id, id)
    messages = service.messages_of(ctx.session, ctx.account_id, [id])[id]
    return JSONAPIResponse(collection([{"type": "campaign-message", "id": m.id} for m in messages], ctx.urls))
