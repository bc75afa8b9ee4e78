"""The web feed endpoints of Klaviyo's API (5 operations)."""

from __future__ import annotations

from fastapi import APIRouter, Body, Response

from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, collection, single
from tidings.web_feeds import service
from tidings.web_feeds.render import web_feed_resource
from tidings.web_feeds.schemas import WebFeedCreateQuery, WebFeedUpdateQuery
from tidings.web_feeds.tables import WebFeed

router = APIRouter(prefix="/api", tags=["Web Feeds"])


@router.get("/web-feeds", operation_id="get_web_feeds")
def get_web_feeds(ctx: ApiContext = api("get_web_feeds")) -> JSONAPIResponse:
    stmt = service.feeds_query(ctx.account_id)
    page = ctx.page(
        stmt,
        sort_column=service.SORTS.get(ctx.params.sort_field or "id", WebFeed.id),
        id_column=WebFeed.id,
        filters=service.FILTERS,
    )
    fields = ctx.params.fields.get("web-feed")
    data = [web_feed_resource(ctx.urls, f, fields) for f in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


@router.post("/web-feeds", operation_id="create_web_feed", status_code=201)
def create_web_feed(
    document: WebFeedCreateQuery = Body(...), ctx: ApiContext = api("create_web_feed")
) -> JSONAPIResponse:
    attrs = document.data.attributes
    feed = service.create_feed(
        ctx.session,
        ctx.runtime.settings,
        ctx.account_id,
        name=attrs.name,
        url=attrs.url,
        method=attrs.request_method,
        content_type=attrs.content_type,
    )
    data = web_feed_resource(ctx.urls, feed, ctx.params.fields.get("web-feed"))
    return JSONAPIResponse(single(data, data["links"]["self"]), status_code=201)


@router.get("/web-feeds/{id}", operation_id="get_web_feed")
def get_web_feed(id: str, ctx: ApiContext = api("get_web_feed")) -> JSONAPIResponse:
    feed = service.get_feed(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(
        single(web_feed_resource(ctx.urls, feed, ctx.params.fields.get("web-feed")), ctx.urls.current())
    )


@router.patch("/web-feeds/{id}", operation_id="update_web_feed")
def update_web_feed(
    id: str, document: WebFeedUpdateQuery = Body(...), ctx: ApiContext = api("update_web_feed")
) -> JSONAPIResponse:
    changes = document.data.attributes.model_dump(exclude_none=True)
    feed = service.update_feed(
        ctx.session, ctx.runtime.settings, ctx.account_id, id, document.data.id, changes
    )
    return JSONAPIResponse(
        single(web_feed_resource(ctx.urls, feed, ctx.params.fields.get("web-feed")), ctx.urls.current())
    )


@router.delete("/web-feeds/{id}", operation_id="delete_web_feed", status_code=204)
def delete_web_feed(id: str, ctx: ApiContext = api("delete_web_feed")) -> Response:
    service.delete_feed(ctx.session, ctx.account_id, id)
    return Response(status_code=204)
