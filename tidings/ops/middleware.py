"""ASGI middleware: trailing slashes, body size limit, rate-limit headers, metrics and logs."""

from __future__ import annotations

import json
import time
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tidings.jsonapi.documents import MEDIA_TYPE
from tidings.jsonapi.errors import PayloadTooLarge, error_document
from tidings.jsonapi.text import NUL_DETAIL as NUL_DETAIL  # where the app and the fast path look
from tidings.ops.metrics import Metrics

log = structlog.get_logger("tidings.http")


class BodyTooLarge(Exception):
    """Raised from `receive` when a streamed body passes the limit."""


class NulInBody(Exception):
    """Raised from `receive` when a JSON body holds a NUL character (no database can store it)."""


NUL_ESCAPES = (b"\\u0000", b"\\U0000")
BACKSLASH = 0x5C
KEEP = len(NUL_ESCAPES[0]) - 1  # the bytes of a chunk an escape may continue in the next one


def _run(data: bytes, end: int, before: int) -> int:
    """The backslashes in a row that end at `data[end]`, plus `before` when they reach the start."""
    start = end
    while start > 0 and data[start - 1] == BACKSLASH:
        start -= 1
    return end - start + 1 + (before if start == 0 else 0)


def holds_nul(window: bytes, before: int) -> bool:
    """Whether `window` holds a NUL escape: `\\u0000` after an odd run of backslashes (in an even
    run each backslash escapes the next: `\\\\u0000` is a backslash and the text `u0000`).
    `before`: the backslashes in a row just before the window."""
    for escape in NUL_ESCAPES:
        at = window.find(escape)
        while at != -1:
            if _run(window, at, before) % 2:
                return True
            at = window.find(escape, at + 1)
    return False


def carry(window: bytes, before: int) -> tuple[bytes, int]:
    """What the next chunk's scan needs of this window: its last bytes, and the backslashes in a
    row just before them (counted only when the byte before them is one: rarely)."""
    cut = len(window) - KEEP
    if cut <= 0:
        return window, before
    if window[cut - 1] != BACKSLASH:
        return window[cut:], 0
    return window[cut:], _run(window, cut - 1, before)


class TidingsMiddleware:
    """`upload_limits`: paths that take larger bodies (an image of 5 MB, as a file or a data URI),
    with their own limit; a multipart body is a file, not JSON, so it is not scanned for NULs."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        max_body_bytes: int,
        upload_limits: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body_bytes
        self.upload_limits = upload_limits or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            scope["path"] = path.rstrip("/") or "/"
            scope["raw_path"] = scope["path"].encode()
        started = time.perf_counter()
        status = 500

        limit = max(self.max_body, self.upload_limits.get(scope["path"], 0))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            status = 413
            await _send_error(send, PayloadTooLarge(f"The request body is larger than {limit} bytes."))
            self._record(scope, status, started)
            return
        scan = not _is_multipart(scope)

        received = 0
        tail = b""
        before = 0  # backslashes in a row just before `tail`

        async def limited_receive() -> Message:
            nonlocal received, tail, before
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    raise BodyTooLarge()
                if not scan:
                    return message
                window = tail + chunk
                if any(escape in window for escape in NUL_ESCAPES) and holds_nul(window, before):
                    raise NulInBody()
                tail, before = carry(window, before)
            return message

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                extra = scope.get("state", {}).get("rate_limit_headers")
                if extra and status != 429:
                    headers = list(message.get("headers", []))
                    headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
                    message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_wrapper)
        finally:
            self._record(scope, status, started)

    def _record(self, scope: Scope, status: int, started: float) -> None:
        elapsed = time.perf_counter() - started
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        self.metrics.observe(scope["method"], route, status, elapsed)
        log.info(
            "request",
            method=scope["method"],
            path=scope["path"],
            route=route,
            status=status,
            ms=round(elapsed * 1000, 2),
            account_id=scope.get("state", {}).get("account_id"),
        )


def _is_multipart(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return value.lower().startswith(b"multipart/form-data")
    return False


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_error(send: Send, error: Any) -> None:
    body = json.dumps(error_document([error])).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
