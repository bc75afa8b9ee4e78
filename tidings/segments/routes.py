"""The segment endpoints of Klaviyo's API, and Tidings' explain endpoint."""

from __future__ import annotations

from fastapi import APIRouter, Body
from fastapi.responses import Response

from tidings.events import flow_triggers
from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, collection, single
from tidings.jsonapi.errors import InvalidInput, NotFound
from tidings.jsonapi.filters import compile_filter
from tidings.jsonapi.pagination import paginate
from tidings.lists.members import member_ids, member_profiles
from tidings.profiles import repository as profiles_repository
from tidings.profiles import service as profiles
from tidings.segments import reports, repository, service
from tidings.segments.explain import explain
from tidings.segments.render import segment_resource
from tidings.segments.schemas import (
    SegmentCreateQuery,
    SegmentSeriesQuery,
    SegmentUpdateQuery,
    SegmentValuesQuery,
)
from tidings.segments.tables import Segment, SegmentMember
from tidings.tags import service as tags
from tidings.tags.render import include_tags, tag_resource

router = APIRouter(prefix="/api", tags=["Segments"])


def _one(ctx: ApiContext, segment: Segment, status: int = 200) -> JSONAPIResponse:
    count = None
    if "profile_count" in ctx.params.additional_fields.get("segment", []):
        count = repository.profile_count(ctx.session, ctx.account_id, segment.id)
    data = segment_resource(ctx.urls, segment, fields=ctx.params.fields.get("segment"), profile_count=count)
    self_url = ctx.urls.current() if status == 200 else ctx.urls.resource("segments", segment.id)
    included = _included(ctx, [data])
    return JSONAPIResponse(single(data, self_url, included, include=ctx.params.include), status_code=status)


def _included(ctx: ApiContext, data: list[dict]) -> list[dict] | None:
    """include=tags: the segments' tags (flows are not built: flow-triggers stay empty)."""
    if "tags" not in ctx.params.include:
        return None
    return include_tags(ctx.session, ctx.account_id, ctx.urls, "segment", data, ctx.params.fields.get("tag"))


@router.get("/segments", operation_id="get_segments")
def get_segments(ctx: ApiContext = api("get_segments")) -> JSONAPIResponse:
    stmt = repository.segments_query(ctx.account_id)
    if ctx.params.filter is not None:
        stmt = stmt.where(compile_filter(ctx.params.filter, repository.FILTERS))
    page = paginate(
        ctx.session,
        stmt,
        operation="get_segments",
        sort_column=repository.SORTS.get(ctx.params.sort_field or "id", Segment.id),
        id_column=Segment.id,
        descending=ctx.params.descending,
        size=ctx.params.page_size,
        cursor=ctx.params.cursor,
        sort=ctx.params.sort,
        filter_text=ctx.params.filter_text,
    )
    data = [segment_resource(ctx.urls, s, fields=ctx.params.fields.get("segment")) for s in page.rows]
    included = _included(ctx, data)
    return JSONAPIResponse(
        collection(data, ctx.urls, page.next_cursor, page.prev_cursor, included, include=ctx.params.include)
    )


@router.post("/segments", operation_id="create_segment", status_code=201)
def create_segment(
    document: SegmentCreateQuery = Body(...), ctx: ApiContext = api("create_segment")
) -> JSONAPIResponse:
    attributes = document.data.attributes.model_dump()
    return _one(ctx, service.create_segment(ctx.session, ctx.account_id, attributes), 201)


@router.get("/segments/{id}", operation_id="get_segment")
def get_segment(id: str, ctx: ApiContext = api("get_segment")) -> JSONAPIResponse:
    return _one(ctx, service.get_segment(ctx.session, ctx.account_id, id))


@router.patch("/segments/{id}", operation_id="update_segment")
def update_segment(
    id: str, document: SegmentUpdateQuery = Body(...), ctx: ApiContext = api("update_segment")
) -> JSONAPIResponse:
    data = document.data
    attributes = data.attributes.model_dump(exclude_unset=True)
    return _one(ctx, service.update_segment(ctx.session, ctx.account_id, id, data.id, attributes))


@router.delete("/segments/{id}", operation_id="delete_segment", status_code=204)
def delete_segment(id: str, ctx: ApiContext = api("delete_segment")) -> Response:
    service.delete_segment(ctx.session, ctx.account_id, id)
    return Response(status_code=204)


@router.get("/segments/{id}/profiles", operation_id="get_profiles_for_segment")
def get_profiles_for_segment(id: str, ctx: ApiContext = api("get_profiles_for_segment")) -> JSONAPIResponse:
    service.get_segment(ctx.session, ctx.account_id, id)
    return member_profiles(ctx, repository.members_query(ctx.account_id, id), SegmentMember.joined_group_at)


@router.get("/segments/{id}/relationships/profiles", operation_id="get_profile_ids_for_segment")
def get_profile_ids_for_segment(
    id: str, ctx: ApiContext = api("get_profile_ids_for_segment")
) -> JSONAPIResponse:
    service.get_segment(ctx.session, ctx.account_id, id)
    return member_ids(ctx, repository.members_query(ctx.account_id, id), SegmentMember.joined_group_at)


@router.get("/segments/{id}/tags", operation_id="get_tags_for_segment")
def get_tags_for_segment(id: str, ctx: ApiContext = api("get_tags_for_segment")) -> JSONAPIResponse:
    service.get_segment(ctx.session, ctx.account_id, id)
    found = tags.tags_of(ctx.session, ctx.account_id, "segment", [id]).get(id, [])
    fields = ctx.params.fields.get("tag")
    return JSONAPIResponse(collection([tag_resource(ctx.urls, t, fields) for t in found], ctx.urls))


@router.get("/segments/{id}/relationships/tags", operation_id="get_tag_ids_for_segment")
def get_tag_ids_for_segment(id: str, ctx: ApiContext = api("get_tag_ids_for_segment")) -> JSONAPIResponse:
    service.get_segment(ctx.session, ctx.account_id, id)
    found = tags.tags_of(ctx.session, ctx.account_id, "segment", [id]).get(id, [])
    return JSONAPIResponse(collection([{"type": "tag", "id": t.id} for t in found], ctx.urls))


# Flows are another domain's; until they exist no flow is triggered by a segment.
def _none(ctx: ApiContext, segment_id: str) -> JSONAPIResponse:
    service.get_segment(ctx.session, ctx.account_id, segment_id)
    return JSONAPIResponse(collection([], ctx.urls))


@router.get("/segments/{id}/flow-triggers", operation_id="get_flows_triggered_by_segment")
def get_flows_triggered_by_segment(
    id: str, ctx: ApiContext = api("get_flows_triggered_by_segment")
) -> JSONAPIResponse:
    service.get_segment(ctx.session, ctx.account_id, id)
    fields = ctx.params.fields.get("flow")
    flows = flow_triggers.reader().flows(ctx.session, ctx.account_id, "segment", id, ctx.urls, fields)
    return JSONAPIResponse(collection(flows, ctx.urls))


@router.get(
    "/segments/{id}/relationships/flow-triggers", operation_id="get_ids_for_flows_triggered_by_segment"
)
def get_ids_for_flows_triggered_by_segment(
    id: str, ctx: ApiContext = api("get_ids_for_flows_triggered_by_segment")
) -> JSONAPIResponse:
    service.get_segment(ctx.session, ctx.account_id, id)
    ids = flow_triggers.reader().flow_ids(ctx.session, ctx.account_id, "segment", id)
    return JSONAPIResponse(collection([{"type": "flow", "id": i} for i in ids], ctx.urls))


@router.get("/profiles/{id}/segments", operation_id="get_segments_for_profile")
def get_segments_for_profile(id: str, ctx: ApiContext = api("get_segments_for_profile")) -> JSONAPIResponse:
    return _segments_of_profile(ctx, id, ids_only=False)


@router.get("/profiles/{id}/relationships/segments", operation_id="get_segment_ids_for_profile")
def get_segment_ids_for_profile(
    id: str, ctx: ApiContext = api("get_segment_ids_for_profile")
) -> JSONAPIResponse:
    return _segments_of_profile(ctx, id, ids_only=True)


def _segments_of_profile(ctx: ApiContext, profile_id: str, *, ids_only: bool) -> JSONAPIResponse:
    profiles.get_profile(ctx.session, ctx.account_id, profile_id)  # a 404 for an unknown profile
    stmt = repository.segments_of_profile(ctx.account_id, profile_id).order_by(Segment.id)
    found = list(ctx.session.execute(stmt).scalars())
    if ids_only:
        return JSONAPIResponse(collection([{"type": "segment", "id": s.id} for s in found], ctx.urls))
    data = [segment_resource(ctx.urls, s, fields=ctx.params.fields.get("segment")) for s in found]
    return JSONAPIResponse(collection(data, ctx.urls))


@router.get("/x-tidings/segments/{id}/explain", operation_id="x_tidings_explain_segment_membership")
def explain_segment_membership(
    id: str, profile_id: str | None = None, ctx: ApiContext = api("get_segment")
) -> JSONAPIResponse:
    """Tidings' own endpoint: why a profile is in or out, condition by condition, with its history."""
    segment = service.get_segment(ctx.session, ctx.account_id, id)
    if not profile_id:
        raise InvalidInput("profile_id is required.", parameter="profile_id")
    if profiles_repository.get_profile(ctx.session, ctx.account_id, profile_id) is None:
        raise NotFound(f"A profile with id {profile_id} does not exist.", parameter="profile_id")
    attributes = explain(ctx.session, ctx.account_id, segment, profile_id)
    data = {
        "type": "segment-explanation",
        "id": f"{segment.id}:{profile_id}",
        "attributes": attributes,
        "links": {"self": ctx.urls.current()},
    }
    return JSONAPIResponse(single(data, ctx.urls.current()))


@router.post("/segment-values-reports", operation_id="query_segment_values", status_code=200)
def query_segment_values(
    document: SegmentValuesQuery = Body(...), ctx: ApiContext = api("query_segment_values")
) -> JSONAPIResponse:
    attrs = document.data.attributes
    results = reports.values(
        ctx.session, ctx.account_id, list(attrs.statistics), attrs.timeframe.model_dump(), attrs.filter
    )
    data = {"type": "segment-values-report", "attributes": {"results": results}}
    return JSONAPIResponse({"data": data, "links": {"self": ctx.urls.current()}})


@router.post("/segment-series-reports", operation_id="query_segment_series", status_code=200)
def query_segment_series(
    document: SegmentSeriesQuery = Body(...), ctx: ApiContext = api("query_segment_series")
) -> JSONAPIResponse:
    attrs = document.data.attributes
    results, date_times = reports.series(
        ctx.session,
        ctx.account_id,
        list(attrs.statistics),
        attrs.timeframe.model_dump(),
        attrs.interval,
        attrs.filter,
    )
    data = {"type": "segment-series-report", "attributes": {"results": results, "date_times": date_times}}
    return JSONAPIResponse({"data": data, "links": {"self": ctx.urls.current()}})
