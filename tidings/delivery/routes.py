"""Tidings extensions of the delivery domain: transactional sends and the send ledger.

POST /api/x-tidings/message-sends        a message to one profile, with the caller's key -> 202
GET  /api/x-tidings/message-sends        the ledger (filters: profile_id, status, channel, source_id)
GET  /api/x-tidings/message-sends/{id}   one send: its status, reason, attempts, Message-ID
"""

from __future__ import annotations

from fastapi import APIRouter, Body

from tidings.delivery import repository, transactional
from tidings.delivery.render import COLLECTION, send_resource
from tidings.delivery.schemas import MessageSendCreate
from tidings.delivery.tables import MessageSend
from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, collection, single
from tidings.jsonapi.errors import NotFound
from tidings.jsonapi.filters import FilterField
from tidings.jsonapi.spec import Operation

router = APIRouter(prefix="/api/x-tidings", tags=["Tidings extensions"])

CREATE_SEND = Operation(
    "x_tidings_create_message_send",
    "POST",
    "/api/x-tidings/message-sends",
    "Tidings extensions",
    ("campaigns:write",),
    10,
    150,
)
GET_SENDS = Operation(
    operation_id="x_tidings_get_message_sends",
    method="GET",
    path="/api/x-tidings/message-sends",
    tag="Tidings extensions",
    scopes=("campaigns:read",),
    burst=10,
    steady=150,
    filters={
        "profile_id": ["equals"],
        "status": ["equals", "any"],
        "channel": ["equals"],
        "source_id": ["equals"],
        "created": ["greater-than", "greater-or-equal", "less-than", "less-or-equal"],
    },
    sorts=("created", "-created"),
    page_default=20,
    page_max=100,
    cursor=True,
)
GET_SEND = Operation(
    "x_tidings_get_message_send",
    "GET",
    "/api/x-tidings/message-sends/{id}",
    "Tidings extensions",
    ("campaigns:read",),
    10,
    150,
)
OPERATIONS = (CREATE_SEND, GET_SENDS, GET_SEND)

FILTERS = {
    "profile_id": FilterField(MessageSend.profile_id),
    "status": FilterField(MessageSend.status),
    "channel": FilterField(MessageSend.channel),
    "source_id": FilterField(MessageSend.source_id),
    "created": FilterField(MessageSend.created, kind="datetime"),
}


@router.post("/message-sends", operation_id="x_tidings_create_message_send", status_code=202)
def create_message_send(
    document: MessageSendCreate = Body(...), ctx: ApiContext = api(CREATE_SEND)
) -> JSONAPIResponse:
    sent = transactional.send_requested(
        ctx.session,
        ctx.account_id,
        document.data.attributes,
        default_from=ctx.runtime.settings.default_from_email,
    )
    send = sent.planned.send
    response = JSONAPIResponse(
        single(send_resource(ctx.urls, send), ctx.urls.resource(COLLECTION, send.id)), status_code=202
    )
    if sent.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@router.get("/message-sends", operation_id="x_tidings_get_message_sends")
def get_message_sends(ctx: ApiContext = api(GET_SENDS)) -> JSONAPIResponse:
    stmt = repository.sends_query(ctx.account_id)
    page = ctx.page(stmt, sort_column=MessageSend.created, id_column=MessageSend.id, filters=FILTERS)
    data = [send_resource(ctx.urls, send) for send in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


@router.get("/message-sends/{id}", operation_id="x_tidings_get_message_send")
def get_message_send(id: str, ctx: ApiContext = api(GET_SEND)) -> JSONAPIResponse:
    send = repository.get(ctx.session, ctx.account_id, id)
    if send is None:
        raise NotFound(f"A message send with id {id} does not exist.")
    return JSONAPIResponse(single(send_resource(ctx.urls, send), ctx.urls.current()))
