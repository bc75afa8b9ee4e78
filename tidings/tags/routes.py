"""The tag endpoints of Klaviyo's API: /api/tags, /api/tag-groups and the taggings of lists,
segments, campaigns and flows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body
from fastapi.responses import Response

from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, collection, single
from tidings.jsonapi.pagination import Page
from tidings.tags import repository, service
from tidings.tags.render import group_resource, tag_resource
from tidings.tags.schemas import (
    GroupCreateQuery,
    GroupUpdateQuery,
    TagCampaignOp,
    TagCreateQuery,
    TagFlowOp,
    TagListOp,
    TagSegmentOp,
    TagUpdateQuery,
)
from tidings.tags.tables import Tag, TagGroup

router = APIRouter(prefix="/api", tags=["Tags"])


def _page(ctx: ApiContext, stmt: Any, sorts: dict[str, Any], id_column: Any, filters: dict) -> Page:
    return ctx.page(
        stmt, sort_column=sorts[ctx.params.sort_field or "id"], id_column=id_column, filters=filters
    )


def _tag_group_included(ctx: ApiContext, tags: list[Tag]) -> list[dict[str, Any]] | None:
    if "tag-group" not in ctx.params.include:
        return None
    groups = repository.groups_by_ids(ctx.session, ctx.account_id, [t.tag_group_id for t in tags])
    fields = ctx.params.fields.get("tag-group")
    return [group_resource(ctx.urls, groups[i], fields) for i in sorted(groups)]


# ------------------------------------------------------------------------------------- tags


@router.get("/tags", operation_id="get_tags")
def get_tags(ctx: ApiContext = api("get_tags")) -> JSONAPIResponse:
    page = _page(
        ctx, repository.tags_query(ctx.account_id), repository.TAG_SORTS, Tag.id, repository.TAG_FILTERS
    )
    tags: list[Tag] = list(page.rows)
    data = [tag_resource(ctx.urls, t, ctx.params.fields.get("tag")) for t in tags]
    included = _tag_group_included(ctx, tags)
    return JSONAPIResponse(
        collection(data, ctx.urls, page.next_cursor, page.prev_cursor, included, include=ctx.params.include)
    )


@router.post("/tags", operation_id="create_tag", status_code=201)
def create_tag(document: TagCreateQuery = Body(...), ctx: ApiContext = api("create_tag")) -> JSONAPIResponse:
    data = document.data
    link = data.relationships.tag_group if data.relationships else None
    tag = service.create_tag(
        ctx.session, ctx.account_id, data.attributes.name, link.data.id if link else None
    )
    resource = tag_resource(ctx.urls, tag, ctx.params.fields.get("tag"))
    return JSONAPIResponse(single(resource, ctx.urls.resource("tags", tag.id)), status_code=201)


@router.get("/tags/{id}", operation_id="get_tag")
def get_tag(id: str, ctx: ApiContext = api("get_tag")) -> JSONAPIResponse:
    tag = service.get_tag(ctx.session, ctx.account_id, id)
    data = tag_resource(ctx.urls, tag, ctx.params.fields.get("tag"))
    included = _tag_group_included(ctx, [tag])
    return JSONAPIResponse(single(data, ctx.urls.current(), included, include=ctx.params.include))


@router.patch("/tags/{id}", operation_id="update_tag", status_code=204)
def update_tag(
    id: str, document: TagUpdateQuery = Body(...), ctx: ApiContext = api("update_tag")
) -> Response:
    service.rename_tag(ctx.session, ctx.account_id, id, document.data.id, document.data.attributes.name)
    return Response(status_code=204)


@router.delete("/tags/{id}", operation_id="delete_tag", status_code=204)
def delete_tag(id: str, ctx: ApiContext = api("delete_tag")) -> Response:
    service.delete_tag(ctx.session, ctx.account_id, id)
    return Response(status_code=204)


@router.get("/tags/{id}/tag-group", operation_id="get_tag_group_for_tag")
def get_tag_group_for_tag(id: str, ctx: ApiContext = api("get_tag_group_for_tag")) -> JSONAPIResponse:
    tag = service.get_tag(ctx.session, ctx.account_id, id)
    group = service.get_group(ctx.session, ctx.account_id, tag.tag_group_id)
    return JSONAPIResponse(
        single(group_resource(ctx.urls, group, ctx.params.fields.get("tag-group")), ctx.urls.current())
    )


@router.get("/tags/{id}/relationships/tag-group", operation_id="get_tag_group_id_for_tag")
def get_tag_group_id_for_tag(id: str, ctx: ApiContext = api("get_tag_group_id_for_tag")) -> JSONAPIResponse:
    tag = service.get_tag(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(single({"type": "tag-group", "id": tag.tag_group_id}, ctx.urls.current()))


# ------------------------------------------------------------------------------- tag groups


@router.get("/tag-groups", operation_id="get_tag_groups")
def get_tag_groups(ctx: ApiContext = api("get_tag_groups")) -> JSONAPIResponse:
    page = _page(
        ctx,
        repository.groups_query(ctx.account_id),
        repository.GROUP_SORTS,
        TagGroup.id,
        repository.GROUP_FILTERS,
    )
    data = [group_resource(ctx.urls, g, ctx.params.fields.get("tag-group")) for g in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


@router.post("/tag-groups", operation_id="create_tag_group", status_code=201)
def create_tag_group(
    document: GroupCreateQuery = Body(...), ctx: ApiContext = api("create_tag_group")
) -> JSONAPIResponse:
    attributes = document.data.attributes
    group = service.create_group(ctx.session, ctx.account_id, attributes.name, attributes.exclusive)
    resource = group_resource(ctx.urls, group, ctx.params.fields.get("tag-group"))
    return JSONAPIResponse(single(resource, ctx.urls.resource("tag-groups", group.id)), status_code=201)


@router.get("/tag-groups/{id}", operation_id="get_tag_group")
def get_tag_group(id: str, ctx: ApiContext = api("get_tag_group")) -> JSONAPIResponse:
    group = service.get_group(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(
        single(group_resource(ctx.urls, group, ctx.params.fields.get("tag-group")), ctx.urls.current())
    )


@router.patch("/tag-groups/{id}", operation_id="update_tag_group", status_code=204)
def update_tag_group(
    id: str, document: GroupUpdateQuery = Body(...), ctx: ApiContext = api("update_tag_group")
) -> Response:
    service.rename_group(ctx.session, ctx.account_id, id, document.data.id, document.data.attributes.name)
    return Response(status_code=204)


@router.delete("/tag-groups/{id}", operation_id="delete_tag_group", status_code=204)
def delete_tag_group(id: str, ctx: ApiContext = api("delete_tag_group")) -> Response:
    service.delete_group(ctx.session, ctx.account_id, id)
    return Response(status_code=204)


@router.get("/tag-groups/{id}/tags", operation_id="get_tags_for_tag_group")
def get_tags_for_tag_group(id: str, ctx: ApiContext = api("get_tags_for_tag_group")) -> JSONAPIResponse:
    service.get_group(ctx.session, ctx.account_id, id)
    tags = repository.tags_in_group(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(
        collection([tag_resource(ctx.urls, t, ctx.params.fields.get("tag")) for t in tags], ctx.urls)
    )


@router.get("/tag-groups/{id}/relationships/tags", operation_id="get_tag_ids_for_tag_group")
def get_tag_ids_for_tag_group(id: str, ctx: ApiContext = api("get_tag_ids_for_tag_group")) -> JSONAPIResponse:
    service.get_group(ctx.session, ctx.account_id, id)
    tags = repository.tags_in_group(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(collection([{"type": "tag", "id": t.id} for t in tags], ctx.urls))


# --------------------------------------------------------------------------------- taggings


def _ids(ctx: ApiContext, id: str, type_: str) -> JSONAPIResponse:
    ids = service.tagged_ids(ctx.session, ctx.account_id, id, type_)
    return JSONAPIResponse(collection([{"type": type_, "id": i} for i in ids], ctx.urls))


@router.get("/tags/{id}/relationships/lists", operation_id="get_list_ids_for_tag")
def get_list_ids_for_tag(id: str, ctx: ApiContext = api("get_list_ids_for_tag")) -> JSONAPIResponse:
    return _ids(ctx, id, "list")


@router.post("/tags/{id}/relationships/lists", operation_id="tag_lists", status_code=204)
def tag_lists(id: str, document: TagListOp = Body(...), ctx: ApiContext = api("tag_lists")) -> Response:
    service.tag_resources(ctx.session, ctx.account_id, id, "list", [ref.id for ref in document.data])
    return Response(status_code=204)


@router.delete("/tags/{id}/relationships/lists", operation_id="remove_tag_from_lists", status_code=204)
def remove_tag_from_lists(
    id: str, document: TagListOp = Body(...), ctx: ApiContext = api("remove_tag_from_lists")
) -> Response:
    service.untag_resources(ctx.session, ctx.account_id, id, "list", [ref.id for ref in document.data])
    return Response(status_code=204)


@router.get("/tags/{id}/relationships/segments", operation_id="get_segment_ids_for_tag")
def get_segment_ids_for_tag(id: str, ctx: ApiContext = api("get_segment_ids_for_tag")) -> JSONAPIResponse:
    return _ids(ctx, id, "segment")


@router.post("/tags/{id}/relationships/segments", operation_id="tag_segments", status_code=204)
def tag_segments(
    id: str, document: TagSegmentOp = Body(...), ctx: ApiContext = api("tag_segments")
) -> Response:
    service.tag_resources(ctx.session, ctx.account_id, id, "segment", [ref.id for ref in document.data])
    return Response(status_code=204)


@router.delete("/tags/{id}/relationships/segments", operation_id="remove_tag_from_segments", status_code=204)
def remove_tag_from_segments(
    id: str, document: TagSegmentOp = Body(...), ctx: ApiContext = api("remove_tag_from_segments")
) -> Response:
    service.untag_resources(ctx.session, ctx.account_id, id, "segment", [ref.id for ref in document.data])
    return Response(status_code=204)


@router.get("/tags/{id}/relationships/campaigns", operation_id="get_campaign_ids_for_tag")
def get_campaign_ids_for_tag(id: str, ctx: ApiContext = api("get_campaign_ids_for_tag")) -> JSONAPIResponse:
    return _ids(ctx, id, "campaign")


@router.post("/tags/{id}/relationships/campaigns", operation_id="tag_campaigns", status_code=204)
def tag_campaigns(
    id: str, document: TagCampaignOp = Body(...), ctx: ApiContext = api("tag_campaigns")
) -> Response:
    service.tag_resources(ctx.session, ctx.account_id, id, "campaign", [ref.id for ref in document.data])
    return Response(status_code=204)


@router.delete(
    "/tags/{id}/relationships/campaigns", operation_id="remove_tag_from_campaigns", status_code=204
)
def remove_tag_from_campaigns(
    id: str, document: TagCampaignOp = Body(...), ctx: ApiContext = api("remove_tag_from_campaigns")
) -> Response:
    service.untag_resources(ctx.session, ctx.account_id, id, "campaign", [ref.id for ref in document.data])
    return Response(status_code=204)


@router.get("/tags/{id}/relationships/flows", operation_id="get_flow_ids_for_tag")
def get_flow_ids_for_tag(id: str, ctx: ApiContext = api("get_flow_ids_for_tag")) -> JSONAPIResponse:
    return _ids(ctx, id, "flow")


@router.post("/tags/{id}/relationships/flows", operation_id="tag_flows", status_code=204)
def tag_flows(id: str, document: TagFlowOp = Body(...), ctx: ApiContext = api("tag_flows")) -> Response:
    service.tag_resources(ctx.session, ctx.account_id, id, "flow", [ref.id for ref in document.data])
    return Response(status_code=204)


@router.delete("/tags/{id}/relationships/flows", operation_id="remove_tag_from_flows", status_code=204)
def remove_tag_from_flows(
    id: str, document: TagFlowOp = Body(...), ctx: ApiContext = api("remove_tag_from_flows")
) -> Response:
    service.untag_resources(ctx.session, ctx.account_id, id, "flow", [ref.id for ref in document.data])
    return Response(status_code=204)
