"""The open pixel and the click redirect: what a recipient's mail client and browser call.

Both answer fast and the same way whatever happens: the pixel is always the same 43-byte GIF;
a click with a valid token always redirects to its signed destination, a forged or altered one
always gets a small 404 page (never a redirect: no open redirect). The hit is handed to the
process's `HitWriter` and the answer waits for its commit; the event is written later, in a
batch (`tracking_hits` says why).
"""

from __future__ import annotations

import base64

import structlog
from fastapi import APIRouter, Request
from starlette.responses import Response

from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.delivery.tracking import TrackingSigner, signer_for
from tidings.delivery.tracking_hits import HitWriter
from tidings.runtime import Runtime

log = structlog.get_logger("tidings.delivery")

router = APIRouter(include_in_schema=False)

GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
NO_STORE = {"Cache-Control": "no-store, no-cache, must-revalidate, max-age=0", "Pragma": "no-cache"}
NOT_FOUND_PAGE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Link not found</title></head>'
    b"<body><main><h1>This link is not valid</h1>"
    b"<p>It may have been copied incompletely. Please use the link in the email again.</p>"
    b"</main></body></html>"
)


def _writer(request: Request) -> tuple[HitWriter, TrackingSigner]:
    runtime: Runtime = request.app.state.runtime
    writer = runtime.service(HitWriter)
    if writer.signer is None:
        with runtime.db.read() as session:
            writer.signer = signer_for(session, runtime.settings)
    return writer, writer.signer


async def _record(writer: HitWriter, request: Request, row: dict[str, object]) -> None:
    row.update(
        {
            "id": ulid(),
            "method": request.method,
            "user_agent": (request.headers.get("user-agent") or "")[:512] or None,
            "ip": request.client.host if request.client else None,
            "received": utcnow(),
        }
    )
    try:
        await writer.write(row)
    except Exception:  # the recipient still gets the pixel or the page; the log says what was lost
        log.exception("tracking.hit_lost", account=row["account_id"], send=row["send_id"], kind=row["kind"])


@router.get("/t/o/{token}.gif")
async def open_pixel(token: str, request: Request) -> Response:
    writer, signer = _writer(request)
    claims = signer.read_open(token)
    if claims is not None:
        row: dict[str, object] = {
            "account_id": claims.account_id,
            "send_id": claims.send_id,
            "kind": "open",
            "link": None,
            "url": None,
        }
        await _record(writer, request, row)
    return Response(GIF, media_type="image/gif", headers=NO_STORE)


@router.api_route("/t/c/{token}", methods=["GET", "HEAD"])
async def click(token: str, request: Request) -> Response:
    writer, signer = _writer(request)
    claims = signer.read_click(token)
    if claims is None:
        return Response(
            NOT_FOUND_PAGE, status_code=404, media_type="text/html; charset=utf-8", headers=NO_STORE
        )
    row: dict[str, object] = {
        "account_id": claims.account_id,
        "send_id": claims.send_id,
        "kind": "click",
        "link": claims.link,
        "url": claims.url,
    }
    await _record(writer, request, row)
    return Response(status_code=302, headers={"Location": claims.url, **NO_STORE})
