"""The profile endpoints of Klaviyo's API: /api/profiles, /api/profile-import, /api/profile-merge."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, collection, single
from tidings.jsonapi.filters import compile_filter
from tidings.jsonapi.pagination import paginate
from tidings.profiles import repository, service
from tidings.profiles.identifiers import PARTIAL_FAILURE_HEADER
from tidings.profiles.render import profile_resource, subscriptions_of
from tidings.profiles.schemas import (
    ProfileCreateQuery,
    ProfileMergeQuery,
    ProfilePartialUpdateQuery,
    ProfileUpsertQuery,
    sent,
)
from tidings.profiles.tables import Profile

router = APIRouter(prefix="/api", tags=["Profiles"])


def _render(
    ctx: ApiContext, profiles: list[Profile], related: dict[str, list[str]] | None = None
) -> list[dict]:
    extra = ctx.params.additional_fields.get("profile", [])
    subs = (
        subscriptions_of(ctx.session, ctx.account_id, [p.id for p in profiles])
        if "subscriptions" in extra
        else {}
    )
    return [
        profile_resource(
            ctx.urls,
            p,
            fields=ctx.params.fields.get("profile"),
            subscriptions=subs.get(p.id) if "subscriptions" in extra else None,
            predictive="predictive_analytics" in extra,
            related=related,
        )
        for p in profiles
    ]


def _included(
    ctx: ApiContext, profiles: list[Profile]
) -> tuple[dict[str, list[str]] | None, list[dict] | None]:
    """Relationship ids per included name, and the included resources (deduplicated)."""
    if not ctx.params.include:
        return None, None
    from tidings.profiles.push_tokens import push_token_resource, tokens_for_profiles

    related: dict[str, list[str]] = {name: [] for name in ctx.params.include}
    included: list[dict[str, Any]] = []
    if "push-tokens" in ctx.params.include:
        tokens = tokens_for_profiles(ctx.session, ctx.account_id, [p.id for p in profiles])
        included += [
            push_token_resource(ctx.urls, t, fields=ctx.params.fields.get("push-token")) for t in tokens
        ]
        if len(profiles) == 1:
            related["push-tokens"] = [t.id for t in tokens]
    # Lists, segments and conversations have no members yet: their relationships are empty.
    return (related if len(profiles) == 1 else None), included


def _written(ctx: ApiContext, written: service.Written, status: int) -> JSONAPIResponse:
    [data] = _render(ctx, [written.profile])
    headers = {PARTIAL_FAILURE_HEADER: ",".join(written.ignored)} if written.ignored else None
    return JSONAPIResponse(
        single(data, ctx.urls.resource("profiles", written.profile.id)), status_code=status, headers=headers
    )


@router.get("/profiles", operation_id="get_profiles")
def get_profiles(ctx: ApiContext = api("get_profiles")) -> JSONAPIResponse:
    stmt = repository.profiles_query(ctx.account_id)
    if ctx.params.filter is not None:
        stmt = stmt.where(compile_filter(ctx.params.filter, repository.FILTERS))
    column = repository.sort_column(ctx.params.sort_field)
    key_of = None
    if getattr(column, "name", None) == "sort_key":
        stmt = stmt.add_columns(column)

        def key_of(row: Any) -> tuple[Any, str]:
            return row[1], row[0].id

    page = paginate(
        ctx.session,
        stmt,
        operation="get_profiles",
        sort_column=column,
        id_column=Profile.id,
        descending=ctx.params.descending,
        size=ctx.params.page_size,
        cursor=ctx.params.cursor,
        sort=ctx.params.sort,
        filter_text=ctx.params.filter_text,
        key_of=key_of,
    )
    profiles = [row[0] for row in page.rows] if key_of is not None else list(page.rows)
    _related, included = _included(ctx, profiles)
    return JSONAPIResponse(
        collection(_render(ctx, profiles), ctx.urls, page.next_cursor, page.prev_cursor, included)
    )


@router.post("/profiles", operation_id="create_profile", status_code=201)
def create_profile(
    document: ProfileCreateQuery = Body(...), ctx: ApiContext = api("create_profile")
) -> JSONAPIResponse:
    written = service.create_profile(ctx.session, ctx.account_id, sent(document.data.attributes))
    return _written(ctx, written, 201)


@router.get("/profiles/{id}", operation_id="get_profile")
def get_profile(id: str, ctx: ApiContext = api("get_profile")) -> JSONAPIResponse:
    profile = service.get_profile(ctx.session, ctx.account_id, id)
    related, included = _included(ctx, [profile])
    [data] = _render(ctx, [profile], related)
    return JSONAPIResponse(single(data, ctx.urls.current(), included))


@router.patch("/profiles/{id}", operation_id="update_profile")
def update_profile(
    id: str, document: ProfilePartialUpdateQuery = Body(...), ctx: ApiContext = api("update_profile")
) -> JSONAPIResponse:
    data = document.data
    meta = sent(data.meta) if data.meta else None
    written = service.update_profile(ctx.session, ctx.account_id, id, data.id, sent(data.attributes), meta)
    return _written(ctx, written, 200)


@router.post("/profile-import", operation_id="create_or_update_profile", status_code=201)
def create_or_update_profile(
    document: ProfileUpsertQuery = Body(...), ctx: ApiContext = api("create_or_update_profile")
) -> JSONAPIResponse:
    data = document.data
    meta = sent(data.meta) if data.meta else None
    written = service.create_or_update_profile(
        ctx.session, ctx.account_id, sent(data.attributes), profile_id=data.id, meta=meta
    )
    return _written(ctx, written, 201 if written.created else 200)


@router.post("/profile-merge", operation_id="merge_profiles", status_code=201)
def merge_profiles(
    document: ProfileMergeQuery = Body(...), ctx: ApiContext = api("merge_profiles")
) -> JSONAPIResponse:
    data = document.data
    merge_id = service.merge_profiles(
        ctx.session, ctx.account_id, data.id, [ref.id for ref in data.relationships.profiles.data]
    )
    self_url = ctx.urls.resource("profiles", data.id)
    body = {
        "data": {"type": "profile", "id": data.id, "links": {"self": self_url}},
        "links": {"self": self_url},
    }
    body["meta"] = {"tidings_merge_id": merge_id}
    return JSONAPIResponse(body, status_code=201)


# Lists and segments belong to their domains; these routes ask them for the profile's groups.


@router.get("/profiles/{id}/lists", operation_id="get_lists_for_profile")
def get_lists_for_profile(id: str, ctx: ApiContext = api("get_lists_for_profile")) -> JSONAPIResponse:
    from tidings.lists.routes import lists_of_profile

    service.get_profile(ctx.session, ctx.account_id, id)
    return lists_of_profile(ctx, id, ids_only=False)


@router.get("/profiles/{id}/relationships/lists", operation_id="get_list_ids_for_profile")
def get_list_ids_for_profile(id: str, ctx: ApiContext = api("get_list_ids_for_profile")) -> JSONAPIResponse:
    from tidings.lists.routes import lists_of_profile

    service.get_profile(ctx.session, ctx.account_id, id)
    return lists_of_profile(ctx, id, ids_only=True)


@router.get("/profiles/{id}/segments", operation_id="get_segments_for_profile")
def get_segments_for_profile(id: str, ctx: ApiContext = api("get_segments_for_profile")) -> JSONAPIResponse:
    from tidings.segments.routes import segments_of_profile

    service.get_profile(ctx.session, ctx.account_id, id)
    return segments_of_profile(ctx, id, ids_only=False)


@router.get("/profiles/{id}/relationships/segments", operation_id="get_segment_ids_for_profile")
def get_segment_ids_for_profile(
    id: str, ctx: ApiContext = api("get_segment_ids_for_profile")
) -> JSONAPIResponse:
    from tidings.segments.routes import segments_of_profile

    service.get_profile(ctx.session, ctx.account_id, id)
    return segments_of_profile(ctx, id, ids_only=True)
