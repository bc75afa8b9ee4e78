"""HTTP for back-in-stock subscriptions: the server endpoint and the client (public key) one."""

from __future__ import annotations

from fastapi import APIRouter, Body, Response

from tidings.catalogs import backinstock
from tidings.catalogs.schemas import BackInStockCreate
from tidings.http import ApiContext, ClientContext, api, client

router = APIRouter(tags=["Catalogs"])


@router.post(
    "/api/back-in-stock-subscriptions", operation_id="create_back_in_stock_subscription", status_code=202
)
def create_back_in_stock_subscription(
    document: BackInStockCreate = Body(...), ctx: ApiContext = api("create_back_in_stock_subscription")
) -> Response:
    backinstock.subscribe(ctx.session, ctx.account_id, document.data, source="api")
    return Response(status_code=202)


@router.post(
    "/client/back-in-stock-subscriptions",
    operation_id="create_client_back_in_stock_subscription",
    status_code=202,
)
def create_client_back_in_stock_subscription(
    document: BackInStockCreate = Body(...),
    ctx: ClientContext = client("create_client_back_in_stock_subscription"),
) -> Response:
    backinstock.subscribe(ctx.session, ctx.account_id, document.data, source="client")
    return Response(status_code=202)
