"""The list endpoints of Klaviyo's API: /api/lists and their members."""

from __future__ import annotations

from fastapi import APIRouter, Body
from fastapi.responses import Response

from tidings.events import flow_triggers
from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, collection, single
from tidings.jsonapi.filters import compile_filter
from tidings.jsonapi.pagination import paginate
from tidings.lists import repository, service
from tidings.lists.members import member_ids, member_profiles
from tidings.lists.render import list_resource
from tidings.lists.schemas import ListCreateQuery, ListMembersQuery, ListUpdateQuery
from tidings.lists.tables import List, ListMember
from tidings.profiles import service as profiles
from tidings.tags import service as tags
from tidings.tags.render import include_tags, tag_resource

router = APIRouter(prefix="/api", tags=["Lists"])


def _one(ctx: ApiContext, found: List, status: int = 200) -> JSONAPIResponse:
    count = None
    if "profile_count" in ctx.params.additional_fields.get("list", []):
        count = repository.profile_counts(ctx.session, ctx.account_id, [found.id])[found.id]
    data = list_resource(ctx.urls, found, fields=ctx.params.fields.get("list"), profile_count=count)
    self_url = ctx.urls.current() if status == 200 else ctx.urls.resource("lists", found.id)
    included = _included(ctx, [data])
    return JSONAPIResponse(single(data, self_url, included, include=ctx.params.include), status_code=status)


def _included(ctx: ApiContext, data: list[dict]) -> list[dict] | None:
    """include=tags: the lists' tags (flows are not built: flow-triggers stay empty)."""
    if "tags" not in ctx.params.include:
        return None
    return include_tags(ctx.session, ctx.account_id, ctx.urls, "list", data, ctx.params.fields.get("tag"))


@router.get("/lists", operation_id="get_lists")
def get_lists(ctx: ApiContext = api("get_lists")) -> JSONAPIResponse:
    stmt = repository.lists_query(ctx.account_id)
    if ctx.params.filter is not None:
        stmt = stmt.where(compile_filter(ctx.params.filter, repository.LIST_FILTERS))
    page = paginate(
        ctx.session,
        stmt,
        operation="get_lists",
        sort_column=repository.LIST_SORTS.get(ctx.params.sort_field or "id", List.id),
        id_column=List.id,
        descending=ctx.params.descending,
        size=ctx.params.page_size,
        cursor=ctx.params.cursor,
        sort=ctx.params.sort,
        filter_text=ctx.params.filter_text,
    )
    data = [list_resource(ctx.urls, found, fields=ctx.params.fields.get("list")) for found in page.rows]
    included = _included(ctx, data)
    return JSONAPIResponse(
        collection(data, ctx.urls, page.next_cursor, page.prev_cursor, included, include=ctx.params.include)
    )


@router.post("/lists", operation_id="create_list", status_code=201)
def create_list(
    document: ListCreateQuery = Body(...), ctx: ApiContext = api("create_list")
) -> JSONAPIResponse:
    attributes = document.data.attributes
    found = service.create_list(ctx.session, ctx.account_id, attributes.name, attributes.opt_in_process)
    return _one(ctx, found, 201)


@router.get("/lists/{id}", operation_id="get_list")
def get_list(id: str, ctx: ApiContext = api("get_list")) -> JSONAPIResponse:
    return _one(ctx, service.get_list(ctx.session, ctx.account_id, id))


@router.patch("/lists/{id}", operation_id="update_list")
def update_list(
    id: str, document: ListUpdateQuery = Body(...), ctx: ApiContext = api("update_list")
) -> JSONAPIResponse:
    data = document.data
    found = service.update_list(
        ctx.session, ctx.account_id, id, data.id, data.attributes.model_dump(exclude_unset=True)
    )
    return _one(ctx, found)


@router.delete("/lists/{id}", operation_id="delete_list", status_code=204)
def delete_list(id: str, ctx: ApiContext = api("delete_list")) -> Response:
    service.delete_list(ctx.session, ctx.account_id, id)
    return Response(status_code=204)


@router.get("/lists/{id}/profiles", operation_id="get_profiles_for_list")
def get_profiles_for_list(id: str, ctx: ApiContext = api("get_profiles_for_list")) -> JSONAPIResponse:
    service.get_list(ctx.session, ctx.account_id, id)
    return member_profiles(ctx, repository.members_query(ctx.account_id, id), ListMember.joined_group_at)


@router.get("/lists/{id}/relationships/profiles", operation_id="get_profile_ids_for_list")
def get_profile_ids_for_list(id: str, ctx: ApiContext = api("get_profile_ids_for_list")) -> JSONAPIResponse:
    service.get_list(ctx.session, ctx.account_id, id)
    return member_ids(ctx, repository.members_query(ctx.account_id, id), ListMember.joined_group_at)


@router.post("/lists/{id}/relationships/profiles", operation_id="add_profiles_to_list", status_code=204)
def add_profiles_to_list(
    id: str, document: ListMembersQuery = Body(...), ctx: ApiContext = api("add_profiles_to_list")
) -> Response:
    service.add_profiles(ctx.session, ctx.account_id, id, [ref.id for ref in document.data])
    return Response(status_code=204)


@router.delete(
    "/lists/{id}/relationships/profiles", operation_id="remove_profiles_from_list", status_code=204
)
def remove_profiles_from_list(
    id: str, document: ListMembersQuery = Body(...), ctx: ApiContext = api("remove_profiles_from_list")
) -> Response:
    service.remove_profiles(ctx.session, ctx.account_id, id, [ref.id for ref in document.data])
    return Response(status_code=204)


@router.get("/lists/{id}/tags", operation_id="get_tags_for_list")
def get_tags_for_list(id: str, ctx: ApiContext = api("get_tags_for_list")) -> JSONAPIResponse:
    service.get_list(ctx.session, ctx.account_id, id)
    found = tags.tags_of(ctx.session, ctx.account_id, "list", [id]).get(id, [])
    fields = ctx.params.fields.get("tag")
    return JSONAPIResponse(collection([tag_resource(ctx.urls, t, fields) for t in found], ctx.urls))


@router.get("/lists/{id}/relationships/tags", operation_id="get_tag_ids_for_list")
def get_tag_ids_for_list(id: str, ctx: ApiContext = api("get_tag_ids_for_list")) -> JSONAPIResponse:
    service.get_list(ctx.session, ctx.account_id, id)
    found = tags.tags_of(ctx.session, ctx.account_id, "list", [id]).get(id, [])
    return JSONAPIResponse(collection([{"type": "tag", "id": t.id} for t in found], ctx.urls))


# Flows are another domain's; until they exist no flow is triggered by a list.


@router.get("/lists/{id}/flow-triggers", operation_id="get_flows_triggered_by_list")
def get_flows_triggered_by_list(
    id: str, ctx: ApiContext = api("get_flows_triggered_by_list")
) -> JSONAPIResponse:
    service.get_list(ctx.session, ctx.account_id, id)
    fields = ctx.params.fields.get("flow")
    flows = flow_triggers.reader().flows(ctx.session, ctx.account_id, "list", id, ctx.urls, fields)
    return JSONAPIResponse(collection(flows, ctx.urls))


@router.get("/lists/{id}/relationships/flow-triggers", operation_id="get_ids_for_flows_triggered_by_list")
def get_ids_for_flows_triggered_by_list(
    id: str, ctx: ApiContext = api("get_ids_for_flows_triggered_by_list")
) -> JSONAPIResponse:
    service.get_list(ctx.session, ctx.account_id, id)
    ids = flow_triggers.reader().flow_ids(ctx.session, ctx.account_id, "list", id)
    return JSONAPIResponse(collection([{"type": "flow", "id": i} for i in ids], ctx.urls))


@router.get("/profiles/{id}/lists", operation_id="get_lists_for_profile")
def get_lists_for_profile(id: str, ctx: ApiContext = api("get_lists_for_profile")) -> JSONAPIResponse:
    return _lists_of_profile(ctx, id, ids_only=False)


@router.get("/profiles/{id}/relationships/lists", operation_id="get_list_ids_for_profile")
def get_list_ids_for_profile(id: str, ctx: ApiContext = api("get_list_ids_for_profile")) -> JSONAPIResponse:
    return _lists_of_profile(ctx, id, ids_only=True)


def _lists_of_profile(ctx: ApiContext, profile_id: str, *, ids_only: bool) -> JSONAPIResponse:
    profiles.get_profile(ctx.session, ctx.account_id, profile_id)  # a 404 for an unknown profile
    stmt = repository.lists_of_profile(ctx.account_id, profile_id)
    if ctx.params.filter is not None:
        stmt = stmt.where(compile_filter(ctx.params.filter, repository.LIST_FILTERS))
    found = list(ctx.session.execute(stmt.order_by(List.id)).scalars())
    if ids_only:
        return JSONAPIResponse(collection([{"type": "list", "id": x.id} for x in found], ctx.urls))
    data = [list_resource(ctx.urls, x, fields=ctx.params.fields.get("list")) for x in found]
    return JSONAPIResponse(collection(data, ctx.urls))
