"""An account's sending settings, a Tidings extension (Klaviyo keeps them in its app's settings):

GET   /api/x-tidings/sending-settings   smart sending windows per channel, SMS quiet hours
PATCH /api/x-tidings/sending-settings   change them (the body's `data.id` is the account's id)
"""

from __future__ import annotations

from fastapi import APIRouter, Body

from tidings.delivery import sending_settings
from tidings.delivery.schemas import SendingSettingUpdate
from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, resource, single
from tidings.jsonapi.errors import Conflict
from tidings.jsonapi.spec import Operation

router = APIRouter(prefix="/api/x-tidings", tags=["Tidings extensions"])

TYPE = "sending-setting"
GET_SETTINGS = Operation(
    "x_tidings_get_sending_settings",
    "GET",
    "/api/x-tidings/sending-settings",
    "Tidings extensions",
    ("campaigns:read",),
    10,
    150,
)
UPDATE_SETTINGS = Operation(
    "x_tidings_update_sending_settings",
    "PATCH",
    "/api/x-tidings/sending-settings",
    "Tidings extensions",
    ("campaigns:write",),
    3,
    60,
)
OPERATIONS = (GET_SETTINGS, UPDATE_SETTINGS)


def _document(ctx: ApiContext, settings: sending_settings.SendingSettings) -> JSONAPIResponse:
    data = resource(
        TYPE, ctx.account_id, settings.attributes(), ctx.urls.current(), fields=ctx.params.fields.get(TYPE)
    )
    return JSONAPIResponse(single(data, ctx.urls.current()))


@router.get("/sending-settings", operation_id="x_tidings_get_sending_settings")
def get_sending_settings(ctx: ApiContext = api(GET_SETTINGS)) -> JSONAPIResponse:
    return _document(ctx, sending_settings.get_settings(ctx.session, ctx.account_id))


@router.patch("/sending-settings", operation_id="x_tidings_update_sending_settings")
def update_sending_settings(
    document: SendingSettingUpdate = Body(...), ctx: ApiContext = api(UPDATE_SETTINGS)
) -> JSONAPIResponse:
    if document.data.id != ctx.account_id:
        raise Conflict("The id in the body must be the account's id.", pointer="/data/id")
    return _document(
        ctx, sending_settings.update_settings(ctx.session, ctx.account_id, document.data.attributes)
    )
