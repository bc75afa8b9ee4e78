"""Klaviyo's webhook operations: endpoints and topics."""

from __future__ import annotations

from fastapi import APIRouter, Body, Response

from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, collection, single
from tidings.jsonapi.errors import Conflict
from tidings.webhooks import service, topics
from tidings.webhooks.render import included_topics, topic_resource, webhook_resource
from tidings.webhooks.schemas import WebhookCreate, WebhookUpdate
from tidings.webhooks.service import WebhookView

router = APIRouter(prefix="/api", tags=["Webhooks"])


def _document(ctx: ApiContext, items: list[WebhookView], self_url: str, *, many: bool) -> dict:
    fields = ctx.params.fields.get("webhook")
    data = [webhook_resource(ctx.urls, item, fields) for item in items]
    included = included_topics(ctx.urls, items) if "webhook-topics" in ctx.params.include else None
    if many:
        return collection(data, ctx.urls, included=included)
    return single(data[0], self_url, included)


@router.get("/webhooks", operation_id="get_webhooks")
def get_webhooks(ctx: ApiContext = api("get_webhooks")) -> JSONAPIResponse:
    items = service.list_webhooks(ctx.session, ctx.account_id)
    return JSONAPIResponse(_document(ctx, items, ctx.urls.current(), many=True))


@router.get("/webhooks/{id}", operation_id="get_webhook")
def get_webhook(id: str, ctx: ApiContext = api("get_webhook")) -> JSONAPIResponse:
    webhook = service.get_webhook(ctx.session, ctx.account_id, id)
    item = service.view(ctx.session, ctx.account_id, webhook)
    return JSONAPIResponse(_document(ctx, [item], ctx.urls.current(), many=False))


@router.post("/webhooks", operation_id="create_webhook", status_code=201)
def create_webhook(
    document: WebhookCreate = Body(...), ctx: ApiContext = api("create_webhook")
) -> JSONAPIResponse:
    data = document.data
    item = service.create_webhook(
        ctx.session,
        ctx.account_id,
        data.attributes,
        data.relationships.webhook_topics.data,
        allow_private=ctx.runtime.settings.allow_private_urls,
    )
    fields = ctx.params.fields.get("webhook")
    url = ctx.urls.resource("webhooks", item.webhook.id)
    return JSONAPIResponse(single(webhook_resource(ctx.urls, item, fields), url), status_code=201)


@router.patch("/webhooks/{id}", operation_id="update_webhook")
def update_webhook(
    id: str, document: WebhookUpdate = Body(...), ctx: ApiContext = api("update_webhook")
) -> JSONAPIResponse:
    service.get_webhook(ctx.session, ctx.account_id, id)  # 404 before 409
    data = document.data
    if data.id != id:
        raise Conflict("The id in the body does not match the id in the path.", pointer="/data/id")
    relationships = data.relationships
    given = relationships.webhook_topics.data if relationships and relationships.webhook_topics else None
    item = service.update_webhook(
        ctx.session, ctx.account_id, id, data.attributes, given,
        allow_private=ctx.runtime.settings.allow_private_urls,
    )  # fmt: skip
    fields = ctx.params.fields.get("webhook")
    return JSONAPIResponse(
        single(webhook_resource(ctx.urls, item, fields), ctx.urls.resource("webhooks", id))
    )


@router.delete("/webhooks/{id}", operation_id="delete_webhook", status_code=204)
def delete_webhook(id: str, ctx: ApiContext = api("delete_webhook")) -> Response:
    service.delete_webhook(ctx.session, ctx.account_id, id)
    return Response(status_code=204)


@router.get("/webhook-topics", operation_id="get_webhook_topics")
def get_webhook_topics(ctx: ApiContext = api("get_webhook_topics")) -> JSONAPIResponse:
    data = [topic_resource(ctx.urls, t) for t in topics.account_topics(ctx.session, ctx.account_id)]
    return JSONAPIResponse(collection(data, ctx.urls))


@router.get("/webhook-topics/{id}", operation_id="get_webhook_topic")
def get_webhook_topic(id: str, ctx: ApiContext = api("get_webhook_topic")) -> JSONAPIResponse:
    topic = service.get_topic(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(single(topic_resource(ctx.urls, topic), ctx.urls.current()))
