"""Ingestion endpoints: validate, write to the inbox in a shared commit, answer 202.

create_event, bulk_create_events, their /client twins, and legacy /api/track and /api/identify.
"""

from __future__ import annotations

import base64
import json
from typing import Annotated
from urllib.parse import parse_qs

import structlog
from fastapi import APIRouter, Body, Query, Request, Response

from tidings.db.base import utcnow
from tidings.events.ingest import accept
from tidings.events.ingest.inbox import InboxItem, InboxWriter
from tidings.events.ingest.intakes import (
    BULK_CREATE_CLIENT_EVENTS,
    BULK_CREATE_EVENTS,
    CREATE_CLIENT_EVENT,
    CREATE_EVENT,
    accept_bulk_create_client_events,
    accept_bulk_create_events,
    accept_create_client_event,
    accept_create_event,
)
from tidings.events.ingest.schemas import BulkJobCreate, EventCreate, ProfileEvents
from tidings.http import IngestContext, public_account_id, runtime_of
from tidings.http import ingest as ingest_api
from tidings.http import ingest_client as ingest_api_client
from tidings.jsonapi.errors import APIError, ServiceUnavailable
from tidings.runtime import Runtime

log = structlog.get_logger("tidings.events")
router = APIRouter(tags=["Events"])

# A transparent 1x1 GIF, for legacy `i=1` pixels.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


async def store(runtime: Runtime, account_id: str, kind: str, payload: str) -> None:
    try:
        await runtime.service(InboxWriter).write([InboxItem(account_id, kind, payload, utcnow())])
    except Exception as error:  # the database did not take it: nothing was acknowledged
        log.error("events.inbox_unavailable", error=repr(error))
        raise ServiceUnavailable(
            "Events cannot be stored right now; retry later.", headers={"Retry-After": "1"}
        ) from error


async def take(ctx: IngestContext, kind: str, payload: str) -> Response:
    await store(ctx.runtime, ctx.account_id, kind, payload)
    return Response(status_code=202)


@router.post("/api/events", operation_id="create_event", status_code=202)
async def create_event(
    document: EventCreate = Body(...), ctx: IngestContext = ingest_api("create_event")
) -> Response:
    return await take(ctx, CREATE_EVENT.kind, accept_create_event(document))


@router.post("/api/event-bulk-create-jobs", operation_id="bulk_create_events", status_code=202)
async def bulk_create_events(
    document: BulkJobCreate = Body(...), ctx: IngestContext = ingest_api("bulk_create_events")
) -> Response:
    return await take(ctx, BULK_CREATE_EVENTS.kind, accept_bulk_create_events(document))


@router.post("/client/events", operation_id="create_client_event", status_code=202)
async def create_client_event(
    document: EventCreate = Body(...), ctx: IngestContext = ingest_api_client("create_client_event")
) -> Response:
    return await take(ctx, CREATE_CLIENT_EVENT.kind, accept_create_client_event(document))


@router.post("/client/event-bulk-create", operation_id="bulk_create_client_events", status_code=202)
async def bulk_create_client_events(
    document: ProfileEvents = Body(...), ctx: IngestContext = ingest_api_client("bulk_create_client_events")
) -> Response:
    return await take(ctx, BULK_CREATE_CLIENT_EVENTS.kind, accept_bulk_create_client_events(document))


# ----------------------------------------------------------------------------- legacy v1/v2


async def _legacy(request: Request, kind: str, data: str | None, pixel: str | None) -> Response:
    """Klaviyo's contract: `1` when the data decodes to a JSON object, else `0`; `i=1` gives a GIF.
    The token is the public key; an unknown token is answered `1` and dropped, as Klaviyo did."""
    payload = accept.decode_legacy(data)
    ok = payload is not None
    if payload is not None:
        runtime = runtime_of(request)
        token = payload.get("token")
        try:
            account_id = await public_account_id(runtime, token if isinstance(token, str) else None)
        except APIError:
            log.info("legacy.unknown_token", kind=kind)
        else:
            request.state.account_id = account_id
            await store(runtime, account_id, kind, json.dumps(payload, separators=(",", ":")))
    if pixel == "1":
        return Response(PIXEL, media_type="image/gif")
    return Response("1" if ok else "0", media_type="text/html")


async def _posted_data(request: Request) -> str | None:
    """`data` from a form body, or the body itself (some clients POST the JSON or base64 directly)."""
    body = (await request.body()).decode(errors="replace").strip()
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        values = parse_qs(body, keep_blank_values=True).get("data")
        return values[0] if values else None
    return body or None


@router.get("/api/track", operation_id="legacy_track")
async def legacy_track(
    request: Request, data: Annotated[str | None, Query()] = None, i: Annotated[str | None, Query()] = None
) -> Response:
    return await _legacy(request, "legacy_track", data, i)


@router.post("/api/track", operation_id="legacy_track_post")
async def legacy_track_post(request: Request, i: Annotated[str | None, Query()] = None) -> Response:
    return await _legacy(request, "legacy_track", await _posted_data(request), i)


@router.get("/api/identify", operation_id="legacy_identify")
async def legacy_identify(
    request: Request, data: Annotated[str | None, Query()] = None, i: Annotated[str | None, Query()] = None
) -> Response:
    return await _legacy(request, "legacy_identify", data, i)


@router.post("/api/identify", operation_id="legacy_identify_post")
async def legacy_identify_post(request: Request, i: Annotated[str | None, Query()] = None) -> Response:
    return await _legacy(request, "legacy_identify", await _posted_data(request), i)
