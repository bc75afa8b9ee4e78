"""Campaign messages and variations in the omni shape (the Python SDK 25): the listing of
messages, and variations, the omni shape's home of a message's content.

These operations are not in the stable spec (revision 2026-07-15), so they are declared here.
Tidings has no A/B variations yet: each message is its one default variation, with the
message's id (`omni.variation_details`), so reading or changing a variation reads or changes
its message's content.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from tidings.campaigns import omni, render, repository, schemas, service
from tidings.campaigns.tables import CampaignMessage
from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, collection, iso, relationship, resource, single
from tidings.jsonapi.pagination import paginate
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
GET_MESSAGES = Operation(
    operation_id="get_campaign_messages",
    method="GET",
    path="/api/campaign-messages",
    tag="Campaigns",
    scopes=("campaigns:read",),
    burst=10,
    steady=150,
    filters={
        "id": ["any", "equals"],
        "campaign_id": ["equals"],
        "name": ["contains"],
        "status": ["equals"],
        "created": ["greater-or-equal", "greater-than", "less-or-equal", "less-than"],
        "updated": ["greater-or-equal", "greater-than", "less-or-equal", "less-than"],
    },
    sorts=("created", "-created", "id", "-id", "name", "-name", "updated", "-updated"),
    page_default=20,
    page_max=100,
    cursor=True,
    includes=("campaign", "campaign-variations"),
)
OPERATIONS = (
    GET_MESSAGES,
    GET_VARIATION,
    UPDATE_VARIATION,
    GET_VARIATIONS,
    GET_VARIATION_IDS,
    GET_MESSAGE,
    GET_MESSAGE_ID,
)


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
    fields = ctx.params.fields.get("campaign-variation")
    return resource(
        "campaign-variation", message.id, attributes, url, relationships=relationships, fields=fields
    )


@router.get("/campaign-messages", operation_id=GET_MESSAGES.operation_id)
def get_campaign_messages(ctx: ApiContext = api(GET_MESSAGES)) -> JSONAPIResponse:
    page = paginate(
        ctx.session,
        repository.messages_query(ctx.account_id, ctx.params.filter),
        operation=GET_MESSAGES.operation_id,
        sort_column=repository.MESSAGE_SORTS[ctx.params.sort_field or "id"],
        id_column=CampaignMessage.id,
        descending=ctx.params.descending,
        size=ctx.params.page_size,
        cursor=ctx.params.cursor,
        sort=ctx.params.sort,
        filter_text=ctx.params.filter_text,
    )
    messages: list[CampaignMessage] = list(page.rows)
    campaigns = repository.campaigns_by_id(ctx.session, ctx.account_id, [m.campaign_id for m in messages])
    data = [render.message_resource(ctx.urls, m, campaigns[m.campaign_id]) for m in messages]
    included: list[dict[str, Any]] | None = None
    if ctx.params.include:
        included = []
        if "campaign" in ctx.params.include:
            by_campaign = service.messages_of(ctx.session, ctx.account_id, list(campaigns))
            included += [
                render.campaign_resource(ctx.urls, campaign, by_campaign[campaign.id])
                for campaign in campaigns.values()
            ]
        if "campaign-variations" in ctx.params.include:
            included += [variation_resource(ctx, message) for message in messages]
    return JSONAPIResponse(
        collection(data, ctx.urls, page.next_cursor, page.prev_cursor, included, include=ctx.params.include)
    )


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
