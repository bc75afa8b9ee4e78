"""The open pixel and the click redirect: what a recipient's mail client and browser call.

Both answer fast and the same way whatever happens: the pixel is always the same 43-byte GIF;
a click with a valid token always redirects to its signed destination, a forged or altered one
always gets a small 404 page (never a redirect: no open redirect). The hit is handed to the
process's `HitWriter` and the answer waits for its commit; the event is written later, in a
batch (`tracking_hits` says why).

The routes are served twice, the same way: by the FastAPI router (`router`, which documents them
and serves them wherever the app is mounted) and by `TrackingFastPath`, an ASGI middleware that
answers `/t/o/` and `/t/c/` before the framework's routing. Matching a path against every route
of the app costs more than the whole redirect; the click redirect must do 3,000 requests/s on
two cores (bench/click_redirect.py).
"""

from __future__ import annotations

import base64

import structlog
from fastapi import APIRouter, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.delivery.tracking import CLICK_PATH, OPEN_PATH, TrackingSigner, location_of, signer_for
from tidings.delivery.tracking_hits import HitWriter
from tidings.runtime import Runtime

log = structlog.get_logger("tidings.delivery")

router = APIRouter(include_in_schema=False)

GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
NO_STORE = "no-store, no-cache, must-revalidate, max-age=0"
NOT_FOUND_PAGE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Link not found</title></head>'
    b"<body><main><h1>This link is not valid</h1>"
    b"<p>It may have been copied incompletely. Please use the link in the email again.</p>"
    b"</main></body></html>"
)


class Tracker:
    """What both ways of serving share: the process's hit writer and signer."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._writer: HitWriter | None = None
        self._signer: TrackingSigner | None = None

    def parts(self) -> tuple[HitWriter, TrackingSigner]:
        if self._writer is None or self._signer is None:
            self._writer = self.runtime.service(HitWriter)
            with self.runtime.db.read() as session:
                self._signer = signer_for(session, self.runtime.settings)
        return self._writer, self._signer

    async def open(self, token: str, method: str, user_agent: str | None, ip: str | None) -> None:
        """Record an open if the token is one of ours (the caller answers the GIF either way)."""
        writer, signer = self.parts()
        claims = signer.read_open(token)
        if claims is not None:
            row = _row(claims.account_id, claims.send_id, "open", None, None, method, user_agent, ip)
            await _record(writer, row)

    async def click(self, token: str, method: str, user_agent: str | None, ip: str | None) -> str | None:
        """The destination of a click (its hit recorded), or None for a token that is not ours."""
        writer, signer = self.parts()
        claims = signer.read_click(token)
        if claims is None:
            return None
        row = _row(
            claims.account_id, claims.send_id, "click", claims.link, claims.url, method, user_agent, ip
        )
        await _record(writer, row)
        return claims.url


def _row(
    account_id: str,
    send_id: str,
    kind: str,
    link: int | None,
    url: str | None,
    method: str,
    user_agent: str | None,
    ip: str | None,
) -> dict[str, object]:
    return {
        "account_id": account_id,
        "id": ulid(),
        "send_id": send_id,
        "kind": kind,
        "link": link,
        "url": url,
        "method": method,
        "user_agent": (user_agent or "")[:512] or None,
        "ip": ip,
        "received": utcnow(),
    }


async def _record(writer: HitWriter, row: dict[str, object]) -> None:
    try:
        await writer.write(row)
    except Exception:  # the recipient still gets the pixel or the page; the log says what was lost
        log.exception("tracking.hit_lost", account=row["account_id"], send=row["send_id"], kind=row["kind"])


def _tracker(request: Request) -> Tracker:
    state = request.app.state
    tracker = getattr(state, "tracker", None)
    if tracker is None:
        tracker = state.tracker = Tracker(state.runtime)
    return tracker


@router.get(OPEN_PATH + "{token}.gif")
async def open_pixel(token: str, request: Request) -> Response:
    ip = request.client.host if request.client else None
    await _tracker(request).open(token, request.method, request.headers.get("user-agent"), ip)
    return Response(GIF, media_type="image/gif", headers={"Cache-Control": NO_STORE})


@router.api_route(CLICK_PATH + "{token}", methods=["GET", "HEAD"])
async def click(token: str, request: Request) -> Response:
    ip = request.client.host if request.client else None
    url = await _tracker(request).click(token, request.method, request.headers.get("user-agent"), ip)
    if url is None:
        return Response(NOT_FOUND_PAGE, 404, {"Cache-Control": NO_STORE}, "text/html; charset=utf-8")
    return Response(status_code=302, headers={"Location": location_of(url), "Cache-Control": NO_STORE})


class TrackingFastPath:
    """Answers GET (and, for clicks, HEAD) on `/t/o/<token>.gif` and `/t/c/<token>` directly."""

    def __init__(self, app: ASGIApp, *, runtime: Runtime) -> None:
        self.app = app
        self.tracker = Tracker(runtime)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        method = scope.get("method", "")
        if path.startswith(OPEN_PATH) and path.endswith(".gif") and method == "GET":
            await self.tracker.open(path[len(OPEN_PATH) : -4], method, *_client(scope))
            await _answer(send, 200, [(b"content-type", b"image/gif")], GIF)
        elif path.startswith(CLICK_PATH) and method in ("GET", "HEAD") and "/" not in path[len(CLICK_PATH) :]:
            url = await self.tracker.click(path[len(CLICK_PATH) :], method, *_client(scope))
            if url is None:
                page = b"" if method == "HEAD" else NOT_FOUND_PAGE
                await _answer(
                    send, 404, [(b"content-type", b"text/html; charset=utf-8")], page, len(NOT_FOUND_PAGE)
                )
            else:
                await _answer(send, 302, [(b"location", location_of(url).encode())], b"")
        else:
            await self.app(scope, receive, send)


def _client(scope: Scope) -> tuple[str | None, str | None]:
    agent = None
    for name, value in scope.get("headers", ()):
        if name == b"user-agent":
            agent = value.decode("latin-1")
            break
    client = scope.get("client")
    return agent, (client[0] if client else None)


async def _answer(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes, length: int | None = None
) -> None:
    headers = [
        *headers,
        (b"cache-control", NO_STORE.encode()),
        (b"content-length", str(len(body) if length is None else length).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
