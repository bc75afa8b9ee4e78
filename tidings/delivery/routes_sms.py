"""Twilio's webhooks: status callbacks and inbound texts (`tidings/delivery/sms.py` applies them).

Both refuse, with 403, a request whose `X-Twilio-Signature` is missing or wrong, computed over
the URL as Twilio called it (`TIDINGS_PUBLIC_URL` + the path and query; without a public URL,
the address the request came to) and the posted form. Without `TIDINGS_TWILIO_AUTH_TOKEN`
nothing can be verified and every request is refused.

Status callbacks answer 204. Inbound texts answer TwiML: empty for STOP and START (Twilio's
opt-out handling sends the carrier's confirmation), the help text for HELP and INFO.
"""

from __future__ import annotations

from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from tidings.delivery import sms
from tidings.http import runtime_of
from tidings.jsonapi.errors import PermissionDenied
from tidings.jsonapi.hosts import link_base
from tidings.runtime import Runtime

router = APIRouter(include_in_schema=False)
TWIML = "application/xml"


async def _verified_form(request: Request, runtime: Runtime) -> dict[str, str]:
    settings = runtime.settings
    # Twilio posts application/x-www-form-urlencoded; blank values are signed too.
    body = (await request.body()).decode("utf-8", errors="replace")
    params = parse_qsl(body, keep_blank_values=True)
    url = link_base(request.scope, settings.public_url, settings.allowed_hosts) + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    signature = request.headers.get("x-twilio-signature")
    if not sms.signature_valid(settings.twilio_auth_token, url, params, signature):
        raise PermissionDenied("The request's X-Twilio-Signature is missing or invalid.")
    return dict(params)


@router.post("/webhooks/sms/twilio/status")
async def twilio_status(request: Request) -> Response:
    runtime = runtime_of(request)
    form = await _verified_form(request, runtime)

    def apply() -> None:
        with runtime.db.write() as session:
            sms.status_callback(session, form)

    await run_in_threadpool(apply)
    return Response(status_code=204)


@router.post("/webhooks/sms/twilio/inbound")
async def twilio_inbound(request: Request) -> Response:
    runtime = runtime_of(request)
    form = await _verified_form(request, runtime)
    settings = runtime.settings

    def apply() -> sms.Inbound:
        with runtime.db.write() as session:
            return sms.inbound(
                session, form, help_text=settings.sms_help_text, fallback_account=settings.sms_inbound_account
            )

    outcome = await run_in_threadpool(apply)
    message = f"<Message>{escape(outcome.answer)}</Message>" if outcome.answer else ""
    twiml = f'<?xml version="1.0" encoding="UTF-8"?><Response>{message}</Response>'
    return Response(twiml, media_type=TWIML)
