"""Campaign variations, the omni shape's home of a message's content (the Python SDK 25).

These operations are not in the stable spec (revision 2026-07-15), so they are declared here.
Tidings has no A/B variations yet: each message is its one default variation, with the
message's id (`omni.variation_details`), so reading or changing a variation reads or changes
its message's content.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from tidings.campaigns import omni, render, schemas, service
from tidings.campaigns.tables import CampaignMessage
from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, collection, iso, relationship, resource, single
from tidings.jsonapi.spec import Operation

router = APIRouter(prefix="/api", tags=["Campaigns"])


def _operation(operation_id: str, method: str, path: str, scope: str) -> Operation:
    return Operation(operation_id, method, path, "Campaigns", (f"campaigns:{scope}",), 10, 150)


GET_VARIATION = _operation("get_campaign_variation", "GET", "/api/campaign-variations/{id}", "read")
UPDATE_VARIATION = _operation("update_campaign_variation", "PATCH", "/api/campaign-variations/{id}", "write")
GET_VARIATIONS = _operation(
    "get_variations_for_campaign_message", "GET", "/api/campaign-messages/{id}/campaign-variations", "read"
)
GET_VARIATION_IDS = _operation(
    "get_variation_ids_for_campaign_message",
    "GET",
    "/api/campaign-messages/{id}/relationships/campaign-variations",
    "read",
)
GET_MESSAGE = _operation(
    "get_message_for_campaign_variation", "GET", "/api/campaign-variations/{id}/campaign-message", "read"
)
GET_MESSAGE_ID = _operation(
    "get_message_id_for_campaign_variation",
    "GET",
    "/api/campaign-variations/{id}/relationships/campaign-message",
    "read",
)
OPERATIONS = (GET_VARIATION, UPDATE_VARIATION, GET_VARIATIONS, GET_VARIATION_IDS, GET_MESSAGE, GET_MESSAGE_ID)


def variation_resource(ctx: ApiContext, message: CampaignMessage) -> dict[str, Any]:
    attributes = {
        "created": iso(message.created_at),
        "updated": iso(message.updated_at),
        "definition": {"name": message.label, "details": omni.variation_details(message)},
    }
    relationships = {
        "campaign-message": relationship(
            "campaign-message",
            message.id,
            ctx.urls.relationship("campaign-variations", message.id, "campaign-message"),
            ctx.urls.related("campaign-variations", message.id, "campaign-message"),
            many=False,
        ),
    }
    url = ctx.urls.resource("campaign-variations", message.id)
    return resource("campaign-variation", message.id, attributes, url, relationships=relationships)


@router.get("/campaign-variations/{id}", operation_id=GET_VARIATION.operation_id)
def get_campaign_variation(id: str, ctx: ApiContext = api(GET_VARIATION)) -> JSONAPIResponse:
    message = service.get_message(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(single(variation_resource(ctx, message), ctx.urls.current()))


@router.patch("/campaign-variations/{id}", operation_id=UPDATE_VARIATION.operation_id)
def update_campaign_variation(
    id: str, body: Any = Body(...), ctx: ApiContext = api(UPDATE_VARIATION)
) -> JSONAPIResponse:
    service.get_message(ctx.session, ctx.account_id, id)  # 404 before 409
    document = schemas.parse(schemas.OmniVariationUpdate, body)
    service.same_id(id, document.data.id)
    message = omni.update_variation(ctx.session, ctx.account_id, id, document.data.attributes)
    url = ctx.urls.resource("campaign-variations", id)
    return JSONAPIResponse(single(variation_resource(ctx, message), url))


@router.get("/campaign-messages/{id}/campaign-variations", operation_id=GET_VARIATIONS.operation_id)
def get_variations_for_campaign_message(id: str, ctx: ApiContext = api(GET_VARIATIONS)) -> JSONAPIResponse:
    message = service.get_message(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(collection([variation_resource(ctx, message)], ctx.urls))


@router.get(
    "/campaign-messages/{id}/relationships/campaign-variations", operation_id=GET_VARIATION_IDS.operation_id
)
def get_variation_ids_for_campaign_message(
    id: str, ctx: ApiContext = api(GET_VARIATION_IDS)
) -> JSONAPIResponse:
    message = service.get_message(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(collection([{"type": "campaign-variation", "id": message.id}], ctx.urls))


@router.get("/campaign-variations/{id}/campaign-message", operation_id=GET_MESSAGE.operation_id)
def get_message_for_campaign_variation(id: str, ctx: ApiContext = api(GET_MESSAGE)) -> JSONAPIResponse:
    message = service.get_message(ctx.session, ctx.account_id, id)
    campaign = service.get_campaign(ctx.session, ctx.account_id, message.campaign_id)
    return JSONAPIResponse(single(render.message_resource(ctx.urls, message, campaign), ctx.urls.current()))


@router.get(
    "/campaign-variations/{id}/relationships/campaign-message", operation_id=GET_MESSAGE_ID.operation_id
)
def get_message_id_for_campaign_variation(id: str, ctx: ApiContext = api(GET_MESSAGE_ID)) -> JSONAPIResponse:
    message = service.get_message(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(single({"type": "campaign-message", "id": message.id}, ctx.urls.current()))
