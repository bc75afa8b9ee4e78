"""Member listings shared by lists and segments: profiles with joined_group_at, paged and filtered."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select

from tidings.http import ApiContext
from tidings.jsonapi.documents import JSONAPIResponse, collection, iso
from tidings.jsonapi.pagination import Page
from tidings.lists.repository import member_filters
from tidings.profiles.render import profile_resources
from tidings.profiles.tables import Profile


def _page(ctx: ApiContext, stmt: Select[Any], joined_column: Any) -> Page:
    return ctx.page(
        stmt,
        sort_column=joined_column,
        id_column=Profile.id,
        filters=member_filters(joined_column),
        key_of=lambda row: (row[1], row[0].id),
    )


def member_profiles(ctx: ApiContext, stmt: Select[Any], joined_column: Any) -> JSONAPIResponse:
    """`stmt` selects (Profile, joined_group_at)."""
    page = _page(ctx, stmt, joined_column)
    profiles: list[Profile] = [row[0] for row in page.rows]
    fields = ctx.params.fields.get("profile")
    extra = ctx.params.additional_fields.get("profile", [])
    data = profile_resources(ctx.session, ctx.account_id, ctx.urls, profiles, fields=fields, extra=extra)
    for item, row in zip(data, page.rows, strict=True):
        if not fields or "joined_group_at" in fields:
            item["attributes"]["joined_group_at"] = iso(row[1])
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


def member_ids(ctx: ApiContext, stmt: Select[Any], joined_column: Any) -> JSONAPIResponse:
    page = _page(ctx, stmt, joined_column)
    data = [{"type": "profile", "id": row[0].id} for row in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))
