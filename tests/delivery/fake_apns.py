"""A fake of APNs' provider API, served over HTTP/2 cleartext (hypercorn).

It refuses anything but HTTP/2, checks the provider token (ES256, signed by the test key,
`kid` and `iss` as configured) and `apns-topic`, answers `apns-id`, and Apple's JSON
`reason`s: `unregistered` tokens get 410 Unregistered, a token that is not 64 hex digits 400
BadDeviceToken; `fail` queues other answers (429 TooManyRequests, 503 ServiceUnavailable ...).
"""

from __future__ import annotations

import json
import string
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

KEY_ID = "ABC123DEFG"
TEAM_ID = "DEF123GHIJ"
TOPIC = "com.example.shop"


def ec_key() -> tuple[str, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return pem, key.public_key()


@dataclass
class Failure:
    status: int
    reason: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeApns:
    public_key: Any
    taken: list[dict[str, Any]] = field(default_factory=list)
    unregistered: set[str] = field(default_factory=set)
    fail: list[Failure] = field(default_factory=list)
    provider_tokens: set[str] = field(default_factory=set)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/3/device/{token}", self.push, methods=["POST"])])

    @staticmethod
    def _reason(status: int, reason: str, headers: dict[str, str] | None = None) -> JSONResponse:
        body: dict[str, Any] = {"reason": reason}
        if status == 410:
            body["timestamp"] = 1700000000000
        return JSONResponse(
            body, status_code=status, headers={"apns-id": str(uuid.uuid4()).upper(), **(headers or {})}
        )

    async def push(self, request: Request) -> Response:
        # Read the whole body first: answering before the client's DATA frames arrive makes
        # hypercorn trip over frames for a stream it already closed.
        body = await request.body()
        if request.scope.get("http_version") != "2":
            return Response(status_code=505)
        auth = request.headers.get("authorization", "")
        if not auth.startswith("bearer "):
            return self._reason(403, "MissingProviderToken")
        token = auth.removeprefix("bearer ")
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(
                token, self.public_key, algorithms=["ES256"], options={"require": ["iat", "iss"]}
            )
        except jwt.PyJWTError:
            return self._reason(403, "InvalidProviderToken")
        if header.get("kid") != KEY_ID or claims.get("iss") != TEAM_ID:
            return self._reason(403, "InvalidProviderToken")
        self.provider_tokens.add(token)
        if request.headers.get("apns-topic") != TOPIC:
            return self._reason(400, "TopicDisallowed")
        if self.fail:
            failure = self.fail.pop(0)
            return self._reason(failure.status, failure.reason, failure.headers)
        device = request.path_params["token"]
        if len(device) != 64 or any(c not in string.hexdigits for c in device):
            return self._reason(400, "BadDeviceToken")
        if device in self.unregistered:
            return self._reason(410, "Unregistered")
        self.taken.append({"device": device, "headers": dict(request.headers), "payload": json.loads(body)})
        apns_id = str(uuid.uuid4()).upper()
        return Response(status_code=200, headers={"apns-id": apns_id})
