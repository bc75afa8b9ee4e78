"""`POST /webhooks/email/{provider}`: bounces and complaints from an email provider (SendGrid,
Mailgun, Postmark). No account in the URL and no API key: the provider's signature or
credentials are the proof, and the send each event names decides the account (a report can
only touch its own send's account). Each event is stored and its processing enqueued in the
request's transaction (deduplicated), then 200; a request without a valid proof is refused."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from tidings.delivery import inbound, webhooks
from tidings.http import runtime_of
from tidings.jsonapi.errors import APIError, InvalidInput, NotAuthenticated, NotFound, PermissionDenied

router = APIRouter(tags=["Delivery"])
_ERRORS: dict[int, type[APIError]] = {
    400: InvalidInput,
    401: NotAuthenticated,
    403: PermissionDenied,
    404: NotFound,
}


@router.post("/webhooks/email/{provider}", include_in_schema=False)
async def email_provider_webhook(provider: str, request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        events = webhooks.read(provider, runtime.settings, headers, body)
    except webhooks.WebhookRefused as refused:
        raise _ERRORS.get(refused.status, InvalidInput)(refused.detail) from None

    def store() -> int:
        with runtime.db.write() as session:
            return sum(
                inbound.store_event(session, provider, e.event, e.dedup_key) is not None for e in events
            )

    stored = await run_in_threadpool(store)
    return JSONResponse({"received": len(events), "stored": stored})
