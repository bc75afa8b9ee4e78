"""Tidings extensions of webhooks: what was sent to an endpoint, and sending it again.

GET  /api/x-tidings/webhooks/{id}/deliveries              batches, newest first, each with its attempts
GET  /api/x-tidings/webhooks/{id}/status                  enabled, failures in a row, next retry, why disabled
GET  /api/x-tidings/webhook-deliveries/{id}               one batch and its attempts
POST /api/x-tidings/webhook-deliveries/{id}/redeliver     send it again -> 202
"""

from __future__ import annotations

from fastapi import APIRouter

from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, collection, single
from tidings.jsonapi.errors import NotFound
from tidings.jsonapi.filters import FilterField
from tidings.jsonapi.spec import Operation
from tidings.webhooks import repository, service
from tidings.webhooks.render import DELIVERIES, delivery_resource, status_resource
from tidings.webhooks.tables import WebhookBatch

router = APIRouter(prefix="/api/x-tidings", tags=["Tidings extensions"])
TAG = "Tidings extensions"

GET_DELIVERIES = Operation(
    operation_id="x_tidings_get_webhook_deliveries",
    method="GET",
    path="/api/x-tidings/webhooks/{id}/deliveries",
    tag=TAG,
    scopes=("webhooks:read",),
    burst=10,
    steady=150,
    filters={"status": ["equals"]},
    sorts=("created", "-created"),
    page_default=20,
    page_max=100,
    cursor=True,
)
GET_STATUS = Operation(
    "x_tidings_get_webhook_status",
    "GET",
    "/api/x-tidings/webhooks/{id}/status",
    TAG,
    ("webhooks:read",),
    10,
    150,
)
GET_DELIVERY = Operation(
    "x_tidings_get_webhook_delivery", "GET", "/api/x-tidings/webhook-deliveries/{id}", TAG,
    ("webhooks:read",), 10, 150,
)  # fmt: skip
REDELIVER = Operation(
    "x_tidings_redeliver_webhook_delivery", "POST", "/api/x-tidings/webhook-deliveries/{id}/redeliver", TAG,
    ("webhooks:write",), 3, 60,
)  # fmt: skip
OPERATIONS = (GET_DELIVERIES, GET_STATUS, GET_DELIVERY, REDELIVER)
FILTERS = {"status": FilterField(WebhookBatch.status)}


@router.get("/webhooks/{id}/deliveries", operation_id=GET_DELIVERIES.operation_id)
def get_webhook_deliveries(id: str, ctx: ApiContext = api(GET_DELIVERIES)) -> JSONAPIResponse:
    service.get_webhook(ctx.session, ctx.account_id, id)
    stmt = repository.batches_query(ctx.account_id, id)
    page = ctx.page(
        stmt,
        sort_column=WebhookBatch.created,
        id_column=WebhookBatch.id,
        filters=FILTERS,
        descending=ctx.params.sort != "created",
    )
    attempts = repository.attempts_of(ctx.session, ctx.account_id, [b.id for b in page.rows])
    data = [delivery_resource(ctx.urls, b, attempts.get(b.id, [])) for b in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


@router.get("/webhooks/{id}/status", operation_id=GET_STATUS.operation_id)
def get_webhook_status(id: str, ctx: ApiContext = api(GET_STATUS)) -> JSONAPIResponse:
    webhook = service.get_webhook(ctx.session, ctx.account_id, id)
    pending = repository.pending_events(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(single(status_resource(ctx.urls, webhook, pending), ctx.urls.current()))


def _delivery(ctx: ApiContext, id: str) -> WebhookBatch:
    batch = repository.get_batch(ctx.session, ctx.account_id, id)
    if batch is None:
        raise NotFound(f"A webhook delivery with id {id} does not exist.")
    return batch


@router.get("/webhook-deliveries/{id}", operation_id=GET_DELIVERY.operation_id)
def get_webhook_delivery(id: str, ctx: ApiContext = api(GET_DELIVERY)) -> JSONAPIResponse:
    batch = _delivery(ctx, id)
    attempts = repository.attempts_of(ctx.session, ctx.account_id, [id]).get(id, [])
    return JSONAPIResponse(single(delivery_resource(ctx.urls, batch, attempts), ctx.urls.current()))


@router.post("/webhook-deliveries/{id}/redeliver", operation_id=REDELIVER.operation_id, status_code=202)
def redeliver_webhook_delivery(id: str, ctx: ApiContext = api(REDELIVER)) -> JSONAPIResponse:
    batch = service.redeliver(ctx.session, ctx.account_id, id)
    attempts = repository.attempts_of(ctx.session, ctx.account_id, [id]).get(id, [])
    url = f"{ctx.urls.base}/api/{DELIVERIES}/{id}"
    return JSONAPIResponse(single(delivery_resource(ctx.urls, batch, attempts), url), status_code=202)
