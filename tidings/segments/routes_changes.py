"""Tidings' own endpoint over a segment's change log.

GET /api/x-tidings/segments/{id}/changes   every entry and exit, oldest first (filters: profile_id,
                                            entered, at)

An entry or exit is not an event (Klaviyo's events API has no "Entered Segment" metric): this is
where an integration reads who came and went, and when, and why the segment was evaluated.
"""

from __future__ import annotations

from fastapi import APIRouter

from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, collection, iso
from tidings.jsonapi.filters import FilterField
from tidings.jsonapi.spec import Operation
from tidings.segments import repository, service
from tidings.segments.tables import SegmentChange

router = APIRouter(prefix="/api/x-tidings", tags=["Tidings extensions"])

GET_CHANGES = Operation(
    operation_id="x_tidings_get_segment_changes",
    method="GET",
    path="/api/x-tidings/segments/{id}/changes",
    tag="Tidings extensions",
    scopes=("segments:read",),
    burst=10,
    steady=150,
    filters={
        "profile_id": ["equals", "any"],
        "entered": ["equals"],
        "at": ["greater-than", "greater-or-equal", "less-than", "less-or-equal"],
    },
    sorts=("id", "-id"),
    page_default=100,
    page_max=1000,
    cursor=True,
)
OPERATIONS = (GET_CHANGES,)

FILTERS = {
    "profile_id": FilterField(SegmentChange.profile_id),
    "entered": FilterField(SegmentChange.entered, kind="boolean"),
    "at": FilterField(SegmentChange.at, kind="datetime"),
}


def change_resource(change: SegmentChange) -> dict[str, object]:
    return {
        "type": "segment-change",
        "id": change.id,
        "attributes": {
            "profile_id": change.profile_id,
            "action": "entered" if change.entered else "exited",
            "entered": change.entered,
            "at": iso(change.at),
            "reason": change.reason,
        },
    }


@router.get("/segments/{id}/changes", operation_id="x_tidings_get_segment_changes")
def get_segment_changes(id: str, ctx: ApiContext = api(GET_CHANGES)) -> JSONAPIResponse:
    service.get_segment(ctx.session, ctx.account_id, id)  # a 404 for another account's segment
    stmt = repository.changes_query(ctx.account_id, id)
    page = ctx.page(stmt, sort_column=SegmentChange.id, id_column=SegmentChange.id, filters=FILTERS)
    data = [change_resource(change) for change in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))
