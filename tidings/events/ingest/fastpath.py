"""The lean path for JSON ingestion: `POST /api/events` and its siblings without the framework's
per-request machinery.

Accepting an event is the busiest thing Tidings does, and most of its cost in FastAPI is
generic work (route matching over every route, dependency solving, parsing the body into
Python objects and then validating them). This ASGI middleware answers the four JSON
ingestion operations directly: the same authentication, revision, scope and rate-limit
checks (`tidings.http`), the same document models, the same acceptance (each operation's
accept function, `intakes`) and inbox write (`routes.store`), and the same error documents.
The FastAPI routes stay (they document the operations and serve anything this path does not
take, such as a body that is not declared JSON); behaviour is the same either way, which
tests/events/ingest/test_fastpath.py checks request by request.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from tidings.events.ingest.intakes import INTAKES, Intake
from tidings.events.ingest.routes import store
from tidings.events.ingest.structs import NotPlain
from tidings.http import ingest_account, ingest_client_account
from tidings.jsonapi.documents import error_response
from tidings.jsonapi.errors import APIError, ErrorList, InvalidInput, PayloadTooLarge
from tidings.jsonapi.spec import Operation, operation
from tidings.jsonapi.validation import validation_errors
from tidings.ops.middleware import NUL_DETAIL, BodyTooLarge, NulInBody
from tidings.runtime import Runtime

UNPARSED = "There was an error parsing the body"
ACCEPTED = {
    "type": "http.response.start",
    "status": 202,
    "headers": [(b"content-length", b"0")],
}


@dataclass(frozen=True)
class _Entry:
    route: APIRoute
    intake: Intake[Any, Any]
    op: Operation


def _is_json(content_type: str) -> bool:
    """FastAPI's rule: `application/json` or any `application/...+json` is parsed as JSON."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class IngestFastPath:
    def __init__(self, app: ASGIApp, *, runtime: Runtime, routes: Iterable[BaseRoute]) -> None:
        self.app = app
        self.runtime = runtime
        self.entries: dict[str, _Entry] = {}
        for route in routes:
            if (
                isinstance(route, APIRoute)
                and route.operation_id in INTAKES
                and "POST" in (route.methods or ())
            ):
                op_id = route.operation_id
                self.entries[route.path] = _Entry(route, INTAKES[op_id], operation(op_id))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        entry = self.entries.get(scope["path"]) if scope["type"] == "http" else None
        if entry is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = dict(scope["headers"])
        content_type = headers.get(b"content-type")
        if content_type is None or not _is_json(content_type.decode("latin-1")):
            await self.app(scope, receive, send)  # FastAPI decides what such a body means
            return
        scope["route"] = entry.route
        state = scope.setdefault("state", {})
        try:
            await self._take(entry, scope, headers, receive, state)
        except APIError as error:
            await error_response([error], error.status, error.headers)(scope, receive, send)
        except ErrorList as errors:
            await error_response(errors.errors, errors.status)(scope, receive, send)
        except BodyTooLarge:
            await error_response([PayloadTooLarge("The request body is too large.")], 413)(
                scope, receive, send
            )
        except NulInBody:
            await error_response([InvalidInput(NUL_DETAIL, pointer="/")], 400)(scope, receive, send)
        else:
            await send(ACCEPTED)
            await send({"type": "http.response.body", "body": b""})

    async def _take(
        self,
        entry: _Entry,
        scope: Scope,
        headers: dict[bytes, bytes],
        receive: Receive,
        state: dict[str, Any],
    ) -> None:
        authorization = _text(headers.get(b"authorization"))
        revision = _text(headers.get(b"revision"))
        if entry.intake.client:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
            who = await ingest_client_account(
                self.runtime, entry.op, query.get("company_id"), authorization, revision, scope=scope
            )
        else:
            who = await ingest_account(self.runtime, entry.op, authorization, revision, scope=scope)
        account_id, limits = who
        state["account_id"] = account_id
        if limits is not None:
            state["rate_limit_headers"] = limits
        body = await _body(receive)
        if not body:
            raise ErrorList(validation_errors([{"type": "missing", "loc": ("body",)}]))
        intake = entry.intake
        try:
            payload = intake.accept(intake.read(body))
        except NotPlain:
            payload = self._judge(intake, body)
        await store(self.runtime, account_id, intake.kind, payload)

    @staticmethod
    def _judge(intake: Intake[Any, Any], body: bytes) -> str:
        """A body outside the plain form: parsed, then validated as Python, as FastAPI does, so
        the errors are the routes' own."""
        try:
            parsed = json.loads(body)
        except ValueError:
            raise ErrorList(validation_errors([{"type": "json_invalid"}])) from None
        except RecursionError:  # nested past what Python parses: FastAPI's answer, word for word
            raise InvalidInput(UNPARSED, pointer="/") from None
        try:
            document = intake.model.model_validate(parsed, from_attributes=True)
        except ValidationError as exc:
            errors = validation_errors([{**item, "loc": ("body", *item["loc"])} for item in exc.errors()])
            raise ErrorList(errors + intake.item_errors(parsed)) from None
        return intake.accept(document)


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


async def _body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise InvalidInput("The client went away before sending the whole body.")
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
