"""Tidings extensions under /api/x-tidings: the merge log, and undoing a merge.

GET  /api/x-tidings/profile-merges?filter=equals(profile_id,"...")   the merge log
GET  /api/x-tidings/profile-merges/{id}                              one merge
POST /api/x-tidings/profile-unmerges                                 undo a merge
     {"data": {"type": "profile-unmerge", "attributes": {"merge_id": "..."}}}  -> 201
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict
from sqlalchemy import or_

from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, Urls, collection, iso, resource, single
from tidings.jsonapi.errors import NotFound
from tidings.jsonapi.filters import FilterField, compile_filter
from tidings.jsonapi.pagination import paginate
from tidings.jsonapi.spec import Operation
from tidings.profiles import merge as merging
from tidings.profiles import repository
from tidings.profiles.tables import ProfileMerge

router = APIRouter(prefix="/api/x-tidings", tags=["Tidings extensions"])
COLLECTION = "x-tidings/profile-merges"

GET_MERGES = Operation(
    operation_id="x_tidings_get_profile_merges",
    method="GET",
    path="/api/x-tidings/profile-merges",
    tag="Tidings extensions",
    scopes=("profiles:read",),
    burst=10,
    steady=150,
    filters={
        "profile_id": ["equals"],
        "source_profile_id": ["equals", "any"],
        "destination_profile_id": ["equals", "any"],
        "reason": ["equals"],
        "status": ["equals"],
        "created": ["greater-than", "greater-or-equal", "less-than", "less-or-equal"],
    },
    sorts=("created", "-created"),
    page_default=20,
    page_max=100,
    cursor=True,
)
GET_MERGE = Operation(
    "x_tidings_get_profile_merge",
    "GET",
    "/api/x-tidings/profile-merges/{id}",
    "Tidings extensions",
    ("profiles:read",),
    10,
    150,
)
CREATE_UNMERGE = Operation(
    "x_tidings_create_profile_unmerge",
    "POST",
    "/api/x-tidings/profile-unmerges",
    "Tidings extensions",
    ("profiles:write",),
    10,
    150,
)

FILTERS = {
    "profile_id": FilterField(
        build=lambda op, value: or_(
            ProfileMerge.source_profile_id == value, ProfileMerge.destination_profile_id == value
        )
    ),
    "source_profile_id": FilterField(ProfileMerge.source_profile_id),
    "destination_profile_id": FilterField(ProfileMerge.destination_profile_id),
    "reason": FilterField(ProfileMerge.reason),
    "status": FilterField(ProfileMerge.status),
    "created": FilterField(ProfileMerge.created, kind="datetime"),
}


def merge_attributes(merge: ProfileMerge) -> dict[str, Any]:
    moved = merge.moved or {}
    source = moved.get("source") or {}
    records = merging.participant_records(moved)
    events = records.pop("events", {})
    return {
        "source_profile_id": merge.source_profile_id,
        "destination_profile_id": merge.destination_profile_id,
        "reason": merge.reason,
        "trigger": merge.trigger,
        "status": merge.status,
        "created": iso(merge.created),
        "unmerged_at": iso(merge.unmerged_at),
        "source_identifiers": {k: source.get(k) for k in ("email", "phone_number", "external_id")},
        "moved": {
            "events": events.get("moved", 0),
            "dropped_duplicate_events": len(events.get("dropped") or []),
            "filled_attributes": sorted(moved.get("filled") or {}),
            "added_properties": sorted(moved.get("added_properties") or {}),
            "aliases": len(moved.get("aliases") or []),
            "participants": {
                name: {key: len(value) for key, value in record.items() if isinstance(value, list)}
                for name, record in records.items()
            },
        },
    }


def merge_resource(urls: Urls, merge: ProfileMerge) -> dict[str, Any]:
    return resource("profile-merge", merge.id, merge_attributes(merge), urls.resource(COLLECTION, merge.id))


@router.get("/profile-merges", operation_id="x_tidings_get_profile_merges")
def get_profile_merges(ctx: ApiContext = api(GET_MERGES)) -> JSONAPIResponse:
    stmt = repository.merges_query(ctx.account_id)
    if ctx.params.filter is not None:
        stmt = stmt.where(compile_filter(ctx.params.filter, FILTERS))
    column = ProfileMerge.created if ctx.params.sort_field == "created" else ProfileMerge.id
    page = paginate(
        ctx.session,
        stmt,
        operation="x_tidings_get_profile_merges",
        sort_column=column,
        id_column=ProfileMerge.id,
        descending=ctx.params.descending,
        size=ctx.params.page_size,
        cursor=ctx.params.cursor,
        sort=ctx.params.sort,
        filter_text=ctx.params.filter_text,
    )
    data = [merge_resource(ctx.urls, m) for m in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


@router.get("/profile-merges/{id}", operation_id="x_tidings_get_profile_merge")
def get_profile_merge(id: str, ctx: ApiContext = api(GET_MERGE)) -> JSONAPIResponse:
    merge = ctx.session.get(ProfileMerge, (ctx.account_id, id))
    if merge is None:
        raise NotFound(f"A profile merge with id {id} does not exist.")
    return JSONAPIResponse(single(merge_resource(ctx.urls, merge), ctx.urls.current()))


class UnmergeAttributes(BaseModel):
    model_config = ConfigDict(extra="forbid")
    merge_id: str


class UnmergeData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["profile-unmerge"]
    attributes: UnmergeAttributes


class UnmergeQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data: UnmergeData


@router.post("/profile-unmerges", operation_id="x_tidings_create_profile_unmerge", status_code=201)
def create_profile_unmerge(
    document: UnmergeQuery = Body(...), ctx: ApiContext = api(CREATE_UNMERGE)
) -> JSONAPIResponse:
    merge = merging.unmerge(ctx.session, ctx.account_id, document.data.attributes.merge_id)
    return JSONAPIResponse(
        single(merge_resource(ctx.urls, merge), ctx.urls.resource(COLLECTION, merge.id)), status_code=201
    )
