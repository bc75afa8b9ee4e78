"""The campaign endpoints of Klaviyo's API: campaigns, campaign messages, their relationships.

Bodies arrive in either shape (stable or omni, `schemas.is_omni`) and are parsed here, so each
error carries its pointer; responses carry both shapes (`render.py`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Body, Response

from tidings.campaigns import images as campaign_images
from tidings.campaigns import omni, operations, render, schemas, service, variants
from tidings.campaigns.routes_audiences import audience_resource
from tidings.campaigns.routes_variations import variation_resource
from tidings.campaigns.tables import Campaign, CampaignMessage, CampaignVariation
from tidings.http import ApiContext, api
from tidings.images.render import image_resource
from tidings.jsonapi.documents import JSONAPIResponse, collection, single
from tidings.jsonapi.errors import InvalidInput
from tidings.jsonapi.filters import find_values
from tidings.jsonapi.pagination import paginate
from tidings.tags import service as tags
from tidings.tags.render import include_tags, tag_resource

router = APIRouter(prefix="/api", tags=["Campaigns"])

# The last revision whose get_campaigns requires a channel filter (the omni revisions do not).
CHANNEL_FILTER_UNTIL = dt.date(2026, 7, 15)


def _campaign(ctx: ApiContext, campaign: Campaign, messages: list[CampaignMessage]) -> dict[str, Any]:
    return render.campaign_resource(ctx.urls, campaign, messages, fields=ctx.params.fields.get("campaign"))


def _message(
    ctx: ApiContext,
    message: CampaignMessage,
    campaign: Campaign,
    *,
    flat: bool = False,
    extras: dict[str, list[CampaignVariation]] | None = None,
) -> dict[str, Any]:
    fields = ctx.params.fields.get("campaign-message")
    if extras is None:
        extras = variants.extras_of(ctx.session, ctx.account_id, [message.id])
    ids = [message.id, *(v.id for v in extras.get(message.id, []))]
    return render.message_resource(ctx.urls, message, campaign, fields=fields, flat=flat, variation_ids=ids)


def _campaign_included(
    ctx: ApiContext, by_campaign: dict[str, list[CampaignMessage]], campaigns: list[Campaign]
) -> list[dict[str, Any]] | None:
    if not ctx.params.include:
        return None
    included: list[dict[str, Any]] = []
    if "campaign-messages" in ctx.params.include:
        ids = [message.id for campaign in campaigns for message in by_campaign.get(campaign.id, [])]
        extras = variants.extras_of(ctx.session, ctx.account_id, ids)
        for campaign in campaigns:
            included += [
                _message(ctx, message, campaign, extras=extras)
                for message in by_campaign.get(campaign.id, [])
            ]
    if "campaign-audiences" in ctx.params.include:
        for campaign in campaigns:
            ids = [message.id for message in by_campaign.get(campaign.id, [])]
            included.append(audience_resource(ctx, campaign, ids))
    return included


def _message_included(
    ctx: ApiContext, messages: list[CampaignMessage], campaign: Campaign
) -> list[dict[str, Any]] | None:
    if not ctx.params.include:
        return None
    included: list[dict[str, Any]] = []
    if "campaign" in ctx.params.include:
        included.append(
            _campaign(
                ctx, campaign, service.messages_of(ctx.session, ctx.account_id, [campaign.id])[campaign.id]
            )
        )
    if "template" in ctx.params.include:
        fields = ctx.params.fields.get("template")
        included += [
            t for m in messages if (t := render.template_resource(ctx.urls, m, fields=fields)) is not None
        ]
    if "campaign-variations" in ctx.params.include:
        extras = variants.extras_of(ctx.session, ctx.account_id, [m.id for m in messages])
        for message in messages:
            included.append(variation_resource(ctx, message))
            included += [variation_resource(ctx, message, v) for v in extras[message.id]]
    if "image" in ctx.params.include:
        fields = ctx.params.fields.get("image")
        settings = ctx.runtime.settings
        shown = {i.id: i for m in messages if (i := campaign_images.image_of(ctx.session, m)) is not None}
        included += [image_resource(ctx.urls, settings, image, fields) for image in shown.values()]
    return included


def _one(ctx: ApiContext, campaign: Campaign, status: int = 200) -> JSONAPIResponse:
    by_campaign = service.messages_of(ctx.session, ctx.account_id, [campaign.id])
    self_url = (
        ctx.urls.current()
        if status == 200 and ctx.request.method == "GET"
        else ctx.urls.resource("campaigns", campaign.id)
    )
    data = _campaign(ctx, campaign, by_campaign[campaign.id])
    included = _campaign_included(ctx, by_campaign, [campaign])
    if included is not None and "tags" in ctx.params.include:
        included += include_tags(
            ctx.session, ctx.account_id, ctx.urls, "campaign", [data], ctx.params.fields.get("tag")
        )
    body = single(data, self_url, included, include=ctx.params.include)
    return JSONAPIResponse(body, status_code=status)


# ---------------------------------------------------------------------------- campaigns


@router.get("/campaigns", operation_id="get_campaigns")
def get_campaigns(ctx: ApiContext = api(operations.GET_CAMPAIGNS)) -> JSONAPIResponse:
    channels = find_values(ctx.params.filter, "messages.channel")
    if ctx.revision <= CHANNEL_FILTER_UNTIL and not channels:
        raise InvalidInput(
            "A channel filter is required: filter=equals(messages.channel,'email')"
            " (or 'sms', 'mobile_push').",
            parameter="filter",
        )
    for channel in channels:
        if channel not in service.CHANNELS:
            raise InvalidInput(
                f"Invalid channel {channel!r}; allowed: email, sms, mobile_push.", parameter="filter"
            )
    sort_field = ctx.params.sort_field or "id"
    page = paginate(
        ctx.session,
        service.repository.campaigns_query(ctx.account_id, ctx.params.filter),
        operation="get_campaigns",
        sort_column=service.repository.CAMPAIGN_SORTS[sort_field],
        id_column=Campaign.id,
        descending=ctx.params.descending,
        size=ctx.params.page_size,
        cursor=ctx.params.cursor,
        sort=ctx.params.sort,
        filter_text=ctx.params.filter_text,
    )
    campaigns: list[Campaign] = list(page.rows)
    by_campaign = service.messages_of(ctx.session, ctx.account_id, [c.id for c in campaigns])
    data = [_campaign(ctx, campaign, by_campaign[campaign.id]) for campaign in campaigns]
    included = _campaign_included(ctx, by_campaign, campaigns)
    if included is not None and "tags" in ctx.params.include:
        included += include_tags(
            ctx.session, ctx.account_id, ctx.urls, "campaign", data, ctx.params.fields.get("tag")
        )
    return JSONAPIResponse(
        collection(data, ctx.urls, page.next_cursor, page.prev_cursor, included, include=ctx.params.include)
    )


@router.get("/campaigns/{id}", operation_id="get_campaign")
def get_campaign(id: str, ctx: ApiContext = api(operations.GET_CAMPAIGN)) -> JSONAPIResponse:
    return _one(ctx, service.get_campaign(ctx.session, ctx.account_id, id))


@router.post("/campaigns", operation_id="create_campaign", status_code=201)
def create_campaign(
    body: Any = Body(...), ctx: ApiContext = api(operations.CREATE_CAMPAIGN)
) -> JSONAPIResponse:
    if schemas.is_omni(body):
        campaign = omni.create_campaign(ctx.session, ctx.account_id, schemas.parse(schemas.OmniCreate, body))
    else:
        campaign = service.create_campaign(
            ctx.session, ctx.account_id, schemas.parse(schemas.CampaignCreate, body)
        )
    return _one(ctx, campaign, 201)


@router.patch("/campaigns/{id}", operation_id="update_campaign")
def update_campaign(
    id: str, body: Any = Body(...), ctx: ApiContext = api(operations.UPDATE_CAMPAIGN)
) -> JSONAPIResponse:
    service.get_campaign(ctx.session, ctx.account_id, id)  # 404 before 409
    if schemas.is_omni(body):
        parsed = schemas.parse(schemas.OmniUpdate, body)
        service.same_id(id, parsed.data.id)
        campaign = omni.update_campaign(ctx.session, ctx.account_id, id, parsed.data.attributes.definition)
    else:
        document = schemas.parse(schemas.CampaignUpdate, body)
        service.same_id(id, document.data.id)
        campaign = service.update_campaign(ctx.session, ctx.account_id, id, document.data.attributes)
    return _one(ctx, campaign)


@router.delete("/campaigns/{id}", operation_id="delete_campaign", status_code=204)
def delete_campaign(id: str, ctx: ApiContext = api("delete_campaign")) -> Response:
    service.delete_campaign(ctx.session, ctx.account_id, id)
    return Response(status_code=204)


@router.post("/campaign-clone", operation_id="create_campaign_clone", status_code=201)
def create_campaign_clone(
    body: Any = Body(...), ctx: ApiContext = api(operations.CLONE_CAMPAIGN)
) -> JSONAPIResponse:
    document = schemas.parse(schemas.CampaignClone, body)
    attributes = document.data.attributes
    name = (attributes.new_name or attributes.name) if attributes else None
    return _one(ctx, service.clone_campaign(ctx.session, ctx.account_id, document.data.id, name), 201)


# ---------------------------------------------------------------------------- campaign relationships


@router.get("/campaigns/{id}/campaign-messages", operation_id="get_messages_for_campaign")
def get_messages_for_campaign(
    id: str, ctx: ApiContext = api(operations.MESSAGES_OF_CAMPAIGN)
) -> JSONAPIResponse:
    campaign = service.get_campaign(ctx.session, ctx.account_id, id)
    messages = service.messages_of(ctx.session, ctx.account_id, [id])[id]
    data = [_message(ctx, message, campaign) for message in messages]
    included = _message_included(ctx, messages, campaign)
    return JSONAPIResponse(collection(data, ctx.urls, included=included, include=ctx.params.include))


@router.get("/campaigns/{id}/relationships/campaign-messages", operation_id="get_message_ids_for_campaign")
def get_message_ids_for_campaign(
    id: str, ctx: ApiContext = api("get_message_ids_for_campaign")
) -> JSONAPIResponse:
    service.get_campaign(ctx.session, ctx.account_id, id)
    messages = service.messages_of(ctx.session, ctx.account_id, [id])[id]
    data = [{"type": "campaign-message", "id": message.id} for message in messages]
    return JSONAPIResponse(collection(data, ctx.urls))


@router.get("/campaigns/{id}/tags", operation_id="get_tags_for_campaign")
def get_tags_for_campaign(id: str, ctx: ApiContext = api("get_tags_for_campaign")) -> JSONAPIResponse:
    service.get_campaign(ctx.session, ctx.account_id, id)
    found = tags.tags_of(ctx.session, ctx.account_id, "campaign", [id]).get(id, [])
    fields = ctx.params.fields.get("tag")
    return JSONAPIResponse(collection([tag_resource(ctx.urls, t, fields) for t in found], ctx.urls))


@router.get("/campaigns/{id}/relationships/tags", operation_id="get_tag_ids_for_campaign")
def get_tag_ids_for_campaign(id: str, ctx: ApiContext = api("get_tag_ids_for_campaign")) -> JSONAPIResponse:
    service.get_campaign(ctx.session, ctx.account_id, id)
    found = tags.tags_of(ctx.session, ctx.account_id, "campaign", [id]).get(id, [])
    return JSONAPIResponse(collection([{"type": "tag", "id": t.id} for t in found], ctx.urls))


# ---------------------------------------------------------------------------- campaign messages


def _message_and_campaign(ctx: ApiContext, id: str) -> tuple[CampaignMessage, Campaign]:
    message = service.get_message(ctx.session, ctx.account_id, id)
    return message, service.get_campaign(ctx.session, ctx.account_id, message.campaign_id)


@router.get("/campaign-messages/{id}", operation_id="get_campaign_message")
def get_campaign_message(id: str, ctx: ApiContext = api(operations.GET_MESSAGE)) -> JSONAPIResponse:
    message, campaign = _message_and_campaign(ctx, id)
    body = single(
        _message(ctx, message, campaign),
        ctx.urls.current(),
        _message_included(ctx, [message], campaign),
        include=ctx.params.include,
    )
    return JSONAPIResponse(body)


def _omni_message_body(body: Any) -> bool:
    data = body.get("data") if isinstance(body, dict) else None
    attributes = data.get("attributes") if isinstance(data, dict) else None
    definition = attributes.get("definition") if isinstance(attributes, dict) else None
    return isinstance(definition, dict) and "channel" not in definition


@router.patch("/campaign-messages/{id}", operation_id="update_campaign_message")
def update_campaign_message(
    id: str, body: Any = Body(...), ctx: ApiContext = api(operations.UPDATE_MESSAGE)
) -> JSONAPIResponse:
    service.get_message(ctx.session, ctx.account_id, id)  # 404 before 409
    if _omni_message_body(body):
        parsed_message = schemas.parse(schemas.OmniMessageUpdate, body)
        service.same_id(id, parsed_message.data.id)
        message = omni.update_message(ctx.session, ctx.account_id, id, parsed_message)
    else:
        document = schemas.parse(schemas.MessageUpdate, body)
        service.same_id(id, document.data.id)
        message = service.update_message(ctx.session, ctx.account_id, id, document)
    campaign = service.get_campaign(ctx.session, ctx.account_id, message.campaign_id)
    return JSONAPIResponse(
        single(_message(ctx, message, campaign), ctx.urls.resource("campaign-messages", id))
    )


@router.post("/campaign-message-assign-template", operation_id="assign_template_to_campaign_message")
def assign_template_to_campaign_message(
    body: Any = Body(...), ctx: ApiContext = api(operations.ASSIGN_TEMPLATE)
) -> JSONAPIResponse:
    document = schemas.parse(schemas.AssignTemplate, body)
    template_id = document.data.relationships.template.data.id
    pointer = "/data/relationships/template/data/id"
    message = service.assign_template(ctx.session, ctx.account_id, document.data.id, template_id, pointer)
    campaign = service.get_campaign(ctx.session, ctx.account_id, message.campaign_id)
    data = _message(ctx, message, campaign, flat=True)
    return JSONAPIResponse(single(data, ctx.urls.resource("campaign-messages", message.id)))


@router.get("/campaign-messages/{id}/campaign", operation_id="get_campaign_for_campaign_message")
def get_campaign_for_campaign_message(
    id: str, ctx: ApiContext = api(operations.CAMPAIGN_OF_MESSAGE)
) -> JSONAPIResponse:
    _found, campaign = _message_and_campaign(ctx, id)
    messages = service.messages_of(ctx.session, ctx.account_id, [campaign.id])[campaign.id]
    return JSONAPIResponse(single(_campaign(ctx, campaign, messages), ctx.urls.current()))


@router.get(
    "/campaign-messages/{id}/relationships/campaign", operation_id="get_campaign_id_for_campaign_message"
)
def get_campaign_id_for_campaign_message(
    id: str, ctx: ApiContext = api("get_campaign_id_for_campaign_message")
) -> JSONAPIResponse:
    message = service.get_message(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(single({"type": "campaign", "id": message.campaign_id}, ctx.urls.current()))


@router.get("/campaign-messages/{id}/template", operation_id="get_template_for_campaign_message")
def get_template_for_campaign_message(
    id: str, ctx: ApiContext = api("get_template_for_campaign_message")
) -> JSONAPIResponse:
    message = service.get_message(ctx.session, ctx.account_id, id)
    data = render.template_resource(ctx.urls, message, fields=ctx.params.fields.get("template"))
    return JSONAPIResponse(single(data, ctx.urls.current()))


@router.get(
    "/campaign-messages/{id}/relationships/template", operation_id="get_template_id_for_campaign_message"
)
def get_template_id_for_campaign_message(
    id: str, ctx: ApiContext = api("get_template_id_for_campaign_message")
) -> JSONAPIResponse:
    message = service.get_message(ctx.session, ctx.account_id, id)
    data = {"type": "template", "id": message.template_id} if message.template_id else None
    return JSONAPIResponse(single(data, ctx.urls.current()))


# ---------------------------------------------------------------------------- images


@router.get("/campaign-messages/{id}/image", operation_id="get_image_for_campaign_message")
def get_image_for_campaign_message(
    id: str, ctx: ApiContext = api("get_image_for_campaign_message")
) -> JSONAPIResponse:
    image = campaign_images.image_of(ctx.session, service.get_message(ctx.session, ctx.account_id, id))
    fields = ctx.params.fields.get("image")
    data = image_resource(ctx.urls, ctx.runtime.settings, image, fields) if image is not None else None
    return JSONAPIResponse(single(data, ctx.urls.current()))


@router.get("/campaign-messages/{id}/relationships/image", operation_id="get_image_id_for_campaign_message")
def get_image_id_for_campaign_message(
    id: str, ctx: ApiContext = api("get_image_id_for_campaign_message")
) -> JSONAPIResponse:
    image_id = campaign_images.image_id_of(ctx.session, service.get_message(ctx.session, ctx.account_id, id))
    data = {"type": "image", "id": image_id} if image_id is not None else None
    return JSONAPIResponse(single(data, ctx.urls.current()))


@router.patch(
    "/campaign-messages/{id}/relationships/image",
    operation_id="update_image_for_campaign_message",
    status_code=204,
)
def update_image_for_campaign_message(
    id: str, body: Any = Body(...), ctx: ApiContext = api("update_image_for_campaign_message")
) -> Response:
    service.get_message(ctx.session, ctx.account_id, id)
    document = schemas.parse(schemas.ImageRelation, body)
    service.set_message_image(ctx.session, ctx.account_id, id, document.data.id)
    return Response(status_code=204)
