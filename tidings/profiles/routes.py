"""The profile endpoints of Klaviyo's API: /api/profiles, /api/profile-import, /api/profile-merge,
/api/push-tokens, /api/data-privacy-deletion-jobs, and /client/profiles and /client/push-tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response

from tidings.http import ApiContext, ClientContext, api, client
from tidings.jsonapi.documents import JSONAPIResponse, collection, single
from tidings.jsonapi.filters import compile_filter
from tidings.jsonapi.pagination import paginate
from tidings.profiles import facets, privacy, push_tokens, repository, service
from tidings.profiles.identifiers import PARTIAL_FAILURE_HEADER
from tidings.profiles.identity import Source
from tidings.profiles.render import profile_resources
from tidings.profiles.schemas import (
    ClientProfileCreateQuery,
    DeletionJobQuery,
    ProfileCreateQuery,
    ProfileMergeQuery,
    ProfilePartialUpdateQuery,
    ProfileUpsertQuery,
    PushTokenCreateQuery,
    PushTokenUnregisterQuery,
    sent,
)
from tidings.profiles.tables import Profile

router = APIRouter(prefix="/api", tags=["Profiles"])
client_router = APIRouter(prefix="/client", tags=["Client"])
ACCEPTED = 202


Related = dict[str, dict[str, list[str]]]  # profile id -> relationship name -> ids


def _render(ctx: ApiContext, profiles: list[Profile], related: Related | None = None) -> list[dict]:
    return profile_resources(
        ctx.session,
        ctx.account_id,
        ctx.urls,
        profiles,
        fields=ctx.params.fields.get("profile"),
        extra=ctx.params.additional_fields.get("profile", []),
        related=related,
    )


def _included(ctx: ApiContext, profiles: list[Profile]) -> tuple[Related | None, list[dict] | None]:
    """Relationship ids of each profile for the included names, and the included resources."""
    if not ctx.params.include:
        return None, None
    related: Related = {p.id: {name: [] for name in ctx.params.include} for p in profiles}
    included: list[dict[str, Any]] = []
    if "push-tokens" in ctx.params.include:
        tokens = push_tokens.tokens_for_profiles(ctx.session, ctx.account_id, [p.id for p in profiles])
        fields = ctx.params.fields.get("push-token")
        included += [push_tokens.push_token_resource(ctx.urls, t, fields=fields) for t in tokens]
        for token in tokens:
            related[token.profile_id]["push-tokens"].append(token.id)
    ids = [p.id for p in profiles]
    for name in ctx.params.include:
        facet = facets.included_relationship(name)  # lists and segments: their domains'
        if facet is None:
            continue
        seen: set[str] = set()
        fields = ctx.params.fields.get(facet.resource_type)
        for profile_id, row in facet.members(ctx.session, ctx.account_id, ids):
            related[profile_id][name].append(row.id)
            if row.id not in seen:
                seen.add(row.id)
                included.append(facet.render(ctx.urls, row, fields))
    # Conversations do not exist in Tidings: that relationship is always empty.
    return related, included


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
        stmt = stmt.where(compile_filter(ctx.params.filter, repository.filters()))
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
    related, included = _included(ctx, profiles)
    return JSONAPIResponse(
        collection(
            _render(ctx, profiles, related),
            ctx.urls,
            page.next_cursor,
            page.prev_cursor,
            included,
            include=ctx.params.include,
        )
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
    return JSONAPIResponse(single(data, ctx.urls.current(), included, include=ctx.params.include))


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


# ----------------------------------------------------------------------------- push tokens


def _token_documents(ctx: ApiContext, tokens: list[Any]) -> tuple[list[dict], list[dict] | None]:
    data = [
        push_tokens.push_token_resource(ctx.urls, t, fields=ctx.params.fields.get("push-token"))
        for t in tokens
    ]
    if "profile" not in ctx.params.include:
        return data, None
    profiles = repository.profiles_by_ids(ctx.session, ctx.account_id, sorted({t.profile_id for t in tokens}))
    return data, _render(ctx, list(profiles.values()))


@router.post("/push-tokens", operation_id="create_push_token", status_code=ACCEPTED)
def create_push_token(
    document: PushTokenCreateQuery = Body(...), ctx: ApiContext = api("create_push_token")
) -> Response:
    service.register_push_token(ctx.session, ctx.account_id, document.data.attributes, source=Source.EVENT)
    return Response(status_code=ACCEPTED)


@router.get("/push-tokens", operation_id="get_push_tokens")
def get_push_tokens(ctx: ApiContext = api("get_push_tokens")) -> JSONAPIResponse:
    stmt = push_tokens.tokens_query(ctx.account_id)
    if ctx.params.filter is not None:
        stmt = stmt.where(compile_filter(ctx.params.filter, push_tokens.FILTERS))
    page = paginate(
        ctx.session,
        stmt,
        operation="get_push_tokens",
        sort_column=push_tokens.PushToken.id,
        id_column=push_tokens.PushToken.id,
        descending=False,
        size=ctx.params.page_size,
        cursor=ctx.params.cursor,
        sort=None,
        filter_text=ctx.params.filter_text,
    )
    data, included = _token_documents(ctx, list(page.rows))
    return JSONAPIResponse(
        collection(data, ctx.urls, page.next_cursor, page.prev_cursor, included, include=ctx.params.include)
    )


@router.get("/push-tokens/{id}", operation_id="get_push_token")
def get_push_token(id: str, ctx: ApiContext = api("get_push_token")) -> JSONAPIResponse:
    token = push_tokens.get_token(ctx.session, ctx.account_id, id)
    [data], included = _token_documents(ctx, [token])
    return JSONAPIResponse(single(data, ctx.urls.current(), included, include=ctx.params.include))


@router.delete("/push-tokens/{id}", operation_id="delete_push_token", status_code=204)
def delete_push_token(id: str, ctx: ApiContext = api("delete_push_token")) -> Response:
    push_tokens.delete_token(ctx.session, ctx.account_id, id)
    return Response(status_code=204)


@router.get("/push-tokens/{id}/profile", operation_id="get_profile_for_push_token")
def get_profile_for_push_token(
    id: str, ctx: ApiContext = api("get_profile_for_push_token")
) -> JSONAPIResponse:
    token = push_tokens.get_token(ctx.session, ctx.account_id, id)
    profile = service.get_profile(ctx.session, ctx.account_id, token.profile_id)
    [data] = _render(ctx, [profile])
    return JSONAPIResponse(single(data, ctx.urls.current()))


@router.get("/push-tokens/{id}/relationships/profile", operation_id="get_profile_id_for_push_token")
def get_profile_id_for_push_token(
    id: str, ctx: ApiContext = api("get_profile_id_for_push_token")
) -> JSONAPIResponse:
    token = push_tokens.get_token(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(
        {"data": {"type": "profile", "id": token.profile_id}, "links": {"self": ctx.urls.current()}}
    )


@router.get("/profiles/{id}/push-tokens", operation_id="get_push_tokens_for_profile")
def get_push_tokens_for_profile(
    id: str, ctx: ApiContext = api("get_push_tokens_for_profile")
) -> JSONAPIResponse:
    service.get_profile(ctx.session, ctx.account_id, id)
    tokens = push_tokens.tokens_for_profiles(ctx.session, ctx.account_id, [id])
    data, _ = _token_documents(ctx, tokens)
    return JSONAPIResponse(collection(data, ctx.urls))


@router.get("/profiles/{id}/relationships/push-tokens", operation_id="get_push_token_ids_for_profile")
def get_push_token_ids_for_profile(
    id: str, ctx: ApiContext = api("get_push_token_ids_for_profile")
) -> JSONAPIResponse:
    service.get_profile(ctx.session, ctx.account_id, id)
    tokens = push_tokens.tokens_for_profiles(ctx.session, ctx.account_id, [id])
    return JSONAPIResponse(collection([{"type": "push-token", "id": t.id} for t in tokens], ctx.urls))


# Conversations (the SMS and WhatsApp inbox) are not built: a profile has none.
@router.get("/profiles/{id}/conversations", operation_id="get_conversations_for_profile")
def get_conversations_for_profile(
    id: str, ctx: ApiContext = api("get_conversations_for_profile")
) -> JSONAPIResponse:
    service.get_profile(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(collection([], ctx.urls))


@router.get("/profiles/{id}/relationships/conversations", operation_id="get_conversation_ids_for_profile")
def get_conversation_ids_for_profile(
    id: str, ctx: ApiContext = api("get_conversation_ids_for_profile")
) -> JSONAPIResponse:
    service.get_profile(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(collection([], ctx.urls))


# ----------------------------------------------------------------------------- data privacy


@router.post("/data-privacy-deletion-jobs", operation_id="request_profile_deletion", status_code=ACCEPTED)
def request_profile_deletion(
    document: DeletionJobQuery = Body(...), ctx: ApiContext = api("request_profile_deletion")
) -> Response:
    block = document.data.attributes.profile.data
    privacy.request_deletion(ctx.session, ctx.account_id, block.id, sent(block.attributes))
    return Response(status_code=ACCEPTED)


# ----------------------------------------------------------------------------- /client


@client_router.post("/profiles", operation_id="create_client_profile", status_code=ACCEPTED)
def create_client_profile(
    document: ClientProfileCreateQuery = Body(...), ctx: ClientContext = client("create_client_profile")
) -> Response:
    data = document.data
    result = service.resolve_block(
        ctx.session,
        ctx.account_id,
        sent(data.attributes),
        profile_id=data.id,
        meta=sent(data.meta) if data.meta else None,
        source=Source.CLIENT,
        pointer="/data/attributes",
    )
    headers = {PARTIAL_FAILURE_HEADER: ",".join(result.ignored)} if result.ignored else None
    return Response(status_code=ACCEPTED, headers=headers)


@client_router.post("/push-tokens", operation_id="create_client_push_token", status_code=ACCEPTED)
def create_client_push_token(
    document: PushTokenCreateQuery = Body(...), ctx: ClientContext = client("create_client_push_token")
) -> Response:
    service.register_push_token(ctx.session, ctx.account_id, document.data.attributes, source=Source.CLIENT)
    return Response(status_code=ACCEPTED)


@client_router.post(
    "/push-token-unregister", operation_id="unregister_client_push_token", status_code=ACCEPTED
)
def unregister_client_push_token(
    document: PushTokenUnregisterQuery = Body(...),
    ctx: ClientContext = client("unregister_client_push_token"),
) -> Response:
    service.unregister_push_token(ctx.session, ctx.account_id, document.data.attributes)
    return Response(status_code=ACCEPTED)
