"""Campaign messages and variations in the omni shape (the Python SDK 25): the listing of
messages, and variations, the omni shape's home of a message's content.

These operations are not in the stable spec (revision 2026-07-15), so they are declared here.
Each message is its default variation, with the message's id (`omni.variation_details`), so
reading or changing it reads or changes the message's content; `create_campaign_variation` adds
more (`variations.py`), which make the message an A/B test (`ab.py`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response

from tidings.campaigns import images as campaign_images
from tidings.campaigns import omni, omni_messages, render, repository, schemas, service, variants, variations
from tidings.campaigns.tables import CampaignMessage, CampaignVariation
from tidings.http import ApiContext, api
from tidings.images.render import image_resource
from tidings.jsonapi.documents import JSONAPIResponse, collection, iso, relationship, resource, single
from tidings.jsonapi.errors import NotFound
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
CREATE_VARIATION = _operation("create_campaign_variation", "POST", "/api/campaign-variations", "write")
DELETE_VARIATION = _operation("delete_campaign_variation", "DELETE", "/api/campaign-variations/{id}", "write")
GET_IMAGE = _operation(
    "get_image_for_campaign_variation", "GET", "/api/campaign-variations/{id}/image", "read"
)
GET_IMAGE_ID = _operation(
    "get_image_id_for_campaign_variation", "GET", "/api/campaign-variations/{id}/relationships/image", "read"
)
CREATE_MESSAGE = _operation("create_campaign_message", "POST", "/api/campaign-messages", "write")
DELETE_MESSAGE = _operation("delete_campaign_message", "DELETE", "/api/campaign-messages/{id}", "write")
OPERATIONS = (
    GET_MESSAGES,
    CREATE_MESSAGE,
    DELETE_MESSAGE,
    CREATE_VARIATION,
    DELETE_VARIATION,
    GET_IMAGE,
    GET_IMAGE_ID,
    GET_VARIATION,
    UPDATE_VARIATION,
    GET_VARIATIONS,
    GET_VARIATION_IDS,
    GET_MESSAGE,
    GET_MESSAGE_ID,
)


def variation_resource(
    ctx: ApiContext, message: CampaignMessage, variation: CampaignVariation | None = None
) -> dict[str, Any]:
    """A variation of `message`: `variation`, or its default one (the message itself)."""
    shown = variants.merged(message, variation)
    variation_id = variation.id if variation is not None else message.id
    attributes = {
        "created": iso(shown.created_at),
        "updated": iso(shown.updated_at),
        "definition": {"name": shown.label, "details": omni.variation_details(shown)},
    }
    relationships = {
        "campaign-message": relationship(
            "campaign-message",
            message.id,
            ctx.urls.relationship("campaign-variations", variation_id, "campaign-message"),
            ctx.urls.related("campaign-variations", variation_id, "campaign-message"),
            many=False,
        ),
        "image": relationship(
            "image",
            message.image_id,  # one image per message, shown by each of its variations
            ctx.urls.relationship("campaign-variations", variation_id, "image"),
            ctx.urls.related("campaign-variations", variation_id, "image"),
            many=False,
        ),
    }
    url = ctx.urls.resource("campaign-variations", variation_id)
    fields = ctx.params.fields.get("campaign-variation")
    return resource(
        "campaign-variation", variation_id, attributes, url, relationships=relationships, fields=fields
    )


def _variations(ctx: ApiContext, message: CampaignMessage) -> list[dict[str, Any]]:
    return [
        variation_resource(ctx, found.message, found.variation)
        for found in variants.all_of(ctx.session, message)
    ]


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
    extras = variants.extras_of(ctx.session, ctx.account_id, [m.id for m in messages])
    data = [
        render.message_resource(
            ctx.urls, m, campaigns[m.campaign_id], variation_ids=[m.id, *(v.id for v in extras[m.id])]
        )
        for m in messages
    ]
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
            for message in messages:
                included.append(variation_resource(ctx, message))
                included += [variation_resource(ctx, message, v) for v in extras[message.id]]
    return JSONAPIResponse(
        collection(data, ctx.urls, page.next_cursor, page.prev_cursor, included, include=ctx.params.include)
    )


@router.post("/campaign-messages", operation_id=CREATE_MESSAGE.operation_id, status_code=201)
def create_campaign_message(body: Any = Body(...), ctx: ApiContext = api(CREATE_MESSAGE)) -> JSONAPIResponse:
    document = schemas.parse(schemas.MessageCreateOmni, body)
    message = omni_messages.create_message(ctx.session, ctx.account_id, document)
    campaign = service.get_campaign(ctx.session, ctx.account_id, message.campaign_id)
    ids = [found.id for found in variants.all_of(ctx.session, message)]
    data = render.message_resource(ctx.urls, message, campaign, variation_ids=ids)
    return JSONAPIResponse(single(data, data["links"]["self"]), status_code=201)


@router.delete("/campaign-messages/{id}", operation_id=DELETE_MESSAGE.operation_id, status_code=204)
def delete_campaign_message(id: str, ctx: ApiContext = api(DELETE_MESSAGE)) -> Response:
    omni_messages.delete_message(ctx.session, ctx.account_id, id)
    return Response(status_code=204)


@router.post("/campaign-variations", operation_id=CREATE_VARIATION.operation_id, status_code=201)
def create_campaign_variation(
    body: Any = Body(...), ctx: ApiContext = api(CREATE_VARIATION)
) -> JSONAPIResponse:
    document = schemas.parse(schemas.VariationCreate, body)
    message_id = document.data.relationships.campaign_message.data.id
    try:
        service.get_message(ctx.session, ctx.account_id, message_id)
    except NotFound as missing:
        raise NotFound(
            f"A campaign message with id {message_id} does not exist.",
            pointer="/data/relationships/campaign-message/data/id",
        ) from missing
    variation = variations.create_variation(
        ctx.session, ctx.account_id, message_id, document.data.attributes.definition
    )
    message = service.get_message(ctx.session, ctx.account_id, message_id)
    data = variation_resource(ctx, message, variation)
    return JSONAPIResponse(single(data, data["links"]["self"]), status_code=201)


@router.get("/campaign-variations/{id}", operation_id=GET_VARIATION.operation_id)
def get_campaign_variation(id: str, ctx: ApiContext = api(GET_VARIATION)) -> JSONAPIResponse:
    found = variations.find(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(
        single(variation_resource(ctx, found.message, found.variation), ctx.urls.current())
    )


@router.patch("/campaign-variations/{id}", operation_id=UPDATE_VARIATION.operation_id)
def update_campaign_variation(
    id: str, body: Any = Body(...), ctx: ApiContext = api(UPDATE_VARIATION)
) -> JSONAPIResponse:
    found = variations.find(ctx.session, ctx.account_id, id)  # 404 before 409
    document = schemas.parse(schemas.OmniVariationUpdate, body)
    service.same_id(id, document.data.id)
    definition = document.data.attributes.definition
    if found.variation is None:
        message = omni.update_variation(ctx.session, ctx.account_id, id, document.data.attributes)
        data = variation_resource(ctx, message)
    else:
        variation = variations.update_variation(ctx.session, ctx.account_id, found.variation, definition)
        data = variation_resource(ctx, found.message, variation)
    return JSONAPIResponse(single(data, ctx.urls.resource("campaign-variations", id)))


@router.delete("/campaign-variations/{id}", operation_id=DELETE_VARIATION.operation_id, status_code=204)
def delete_campaign_variation(id: str, ctx: ApiContext = api(DELETE_VARIATION)) -> Response:
    variations.delete_variation(ctx.session, ctx.account_id, id)
    return Response(status_code=204)


@router.get("/campaign-messages/{id}/campaign-variations", operation_id=GET_VARIATIONS.operation_id)
def get_variations_for_campaign_message(id: str, ctx: ApiContext = api(GET_VARIATIONS)) -> JSONAPIResponse:
    message = service.get_message(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(collection(_variations(ctx, message), ctx.urls))


@router.get(
    "/campaign-messages/{id}/relationships/campaign-variations", operation_id=GET_VARIATION_IDS.operation_id
)
def get_variation_ids_for_campaign_message(
    id: str, ctx: ApiContext = api(GET_VARIATION_IDS)
) -> JSONAPIResponse:
    message = service.get_message(ctx.session, ctx.account_id, id)
    ids = [{"type": "campaign-variation", "id": found.id} for found in variants.all_of(ctx.session, message)]
    return JSONAPIResponse(collection(ids, ctx.urls))


@router.get("/campaign-variations/{id}/campaign-message", operation_id=GET_MESSAGE.operation_id)
def get_message_for_campaign_variation(id: str, ctx: ApiContext = api(GET_MESSAGE)) -> JSONAPIResponse:
    message = variations.find(ctx.session, ctx.account_id, id).message
    campaign = service.get_campaign(ctx.session, ctx.account_id, message.campaign_id)
    ids = [found.id for found in variants.all_of(ctx.session, message)]
    data = render.message_resource(ctx.urls, message, campaign, variation_ids=ids)
    return JSONAPIResponse(single(data, ctx.urls.current()))


@router.get(
    "/campaign-variations/{id}/relationships/campaign-message", operation_id=GET_MESSAGE_ID.operation_id
)
def get_message_id_for_campaign_variation(id: str, ctx: ApiContext = api(GET_MESSAGE_ID)) -> JSONAPIResponse:
    message = variations.find(ctx.session, ctx.account_id, id).message
    return JSONAPIResponse(single({"type": "campaign-message", "id": message.id}, ctx.urls.current()))


@router.get("/campaign-variations/{id}/image", operation_id=GET_IMAGE.operation_id)
def get_image_for_campaign_variation(id: str, ctx: ApiContext = api(GET_IMAGE)) -> JSONAPIResponse:
    image = campaign_images.image_of(ctx.session, variations.find(ctx.session, ctx.account_id, id).message)
    fields = ctx.params.fields.get("image")
    data = image_resource(ctx.urls, ctx.runtime.settings, image, fields) if image is not None else None
    return JSONAPIResponse(single(data, ctx.urls.current()))


@router.get("/campaign-variations/{id}/relationships/image", operation_id=GET_IMAGE_ID.operation_id)
def get_image_id_for_campaign_variation(id: str, ctx: ApiContext = api(GET_IMAGE_ID)) -> JSONAPIResponse:
    message = variations.find(ctx.session, ctx.account_id, id).message
    image_id = campaign_images.image_id_of(ctx.session, message)
    data = {"type": "image", "id": image_id} if image_id is not None else None
    return JSONAPIResponse(single(data, ctx.urls.current()))
