"""The tracking settings of an account (`/api/tracking-settings`): one resource, its id the
account's id."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from tidings.delivery import tracking_settings
from tidings.delivery.schemas import TrackingSettingUpdate
from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, collection, resource, single
from tidings.jsonapi.errors import Conflict, NotFound

router = APIRouter(prefix="/api", tags=["Tracking Settings"])


def _resource(ctx: ApiContext, attributes: dict[str, Any]) -> dict[str, Any]:
    return resource(
        "tracking-setting",
        ctx.account_id,
        attributes,
        ctx.urls.resource("tracking-settings", ctx.account_id),
        fields=ctx.params.fields.get("tracking-setting"),
    )


def _own(ctx: ApiContext, id: str) -> None:
    if id != ctx.account_id:
        raise NotFound(f"A tracking setting with id {id} does not exist.")


@router.get("/tracking-settings", operation_id="get_tracking_settings")
def get_tracking_settings(ctx: ApiContext = api("get_tracking_settings")) -> JSONAPIResponse:
    attributes = tracking_settings.get_settings(ctx.session, ctx.account_id)
    return JSONAPIResponse(collection([_resource(ctx, attributes)], ctx.urls))


@router.get("/tracking-settings/{id}", operation_id="get_tracking_setting")
def get_tracking_setting(id: str, ctx: ApiContext = api("get_tracking_setting")) -> JSONAPIResponse:
    _own(ctx, id)
    attributes = tracking_settings.get_settings(ctx.session, ctx.account_id)
    return JSONAPIResponse(single(_resource(ctx, attributes), ctx.urls.current()))


@router.patch("/tracking-settings/{id}", operation_id="update_tracking_setting")
def update_tracking_setting(
    id: str, document: TrackingSettingUpdate = Body(...), ctx: ApiContext = api("update_tracking_setting")
) -> JSONAPIResponse:
    _own(ctx, id)
    if document.data.id != id:
        raise Conflict("The id in the body does not match the id in the path.", pointer="/data/id")
    attributes = tracking_settings.update_settings(ctx.session, ctx.account_id, document.data.attributes)
    return JSONAPIResponse(single(_resource(ctx, attributes), ctx.urls.current()))
