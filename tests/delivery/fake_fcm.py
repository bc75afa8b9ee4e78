"""A fake of FCM HTTP v1 and Google's OAuth token endpoint.

`POST /token` takes the JWT-bearer grant and checks the assertion's RS256 signature with the
service account's public key (and its issuer, audience and scope); `POST
/v1/projects/{project}/messages:send` wants a token it issued. `unregistered` tokens answer
404 UNREGISTERED; `fail` queues other answers (429, 503, 400 ...).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

PROJECT = "tidings-test"
CLIENT_EMAIL = "sender@tidings-test.iam.gserviceaccount.com"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


@dataclass
class Failure:
    status: int
    error_code: str | None
    rpc_status: str
    message: str = "failed"
    headers: dict[str, str] = field(default_factory=dict)


def rsa_key() -> tuple[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return pem, key.public_key()


@dataclass
class FakeFcm:
    public_key: Any
    url: str = ""  # set once served: the token endpoint checks the audience against it
    grants: int = 0
    issued: set[str] = field(default_factory=set)
    taken: list[dict[str, Any]] = field(default_factory=list)
    unregistered: set[str] = field(default_factory=set)
    fail: list[Failure] = field(default_factory=list)
    token_lifetime: int = 3599
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/token", self.token, methods=["POST"]),
                Route("/v1/projects/{project}/messages:send", self.send, methods=["POST"]),
            ]
        )

    async def token(self, request: Request) -> JSONResponse:
        form = dict(parse_qsl((await request.body()).decode()))
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        try:
            claims = jwt.decode(
                form.get("assertion", ""), self.public_key, algorithms=["RS256"], audience=f"{self.url}/token"
            )
        except jwt.PyJWTError as error:
            return JSONResponse({"error": "invalid_grant", "error_description": str(error)}, status_code=400)
        if claims.get("iss") != CLIENT_EMAIL or claims.get("scope") != SCOPE:
            return JSONResponse({"error": "invalid_scope"}, status_code=400)
        self.grants += 1
        token = f"ya29.fake-{self.grants}"
        self.issued.add(token)
        return JSONResponse(
            {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"}
        )

    def _error(
        self,
        status: int,
        rpc_status: str,
        message: str,
        code: str | None,
        headers: dict[str, str] | None = None,
    ) -> JSONResponse:
        error: dict[str, Any] = {"code": status, "message": message, "status": rpc_status}
        if code:
            error["details"] = [
                {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}
            ]
        return JSONResponse({"error": error}, status_code=status, headers=headers)

    async def send(self, request: Request) -> JSONResponse:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if bearer not in self.issued:
            return self._error(
                401, "UNAUTHENTICATED", "Request had invalid authentication credentials.", None
            )
        if request.path_params["project"] != PROJECT:
            return self._error(403, "PERMISSION_DENIED", "Permission denied.", None)
        body = json.loads(await request.body())
        message = body["message"]
        if self.fail:
            f = self.fail.pop(0)
            return self._error(f.status, f.rpc_status, f.message, f.error_code, f.headers)
        if message["token"] in self.unregistered:
            return self._error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")
        if not message["token"].strip():
            return self._error(
                400,
                "INVALID_ARGUMENT",
                "The registration token is not a valid FCM registration token",
                "INVALID_ARGUMENT",
            )
        self.taken.append(message)
        return JSONResponse({"name": f"projects/{PROJECT}/messages/0:{next(self._ids)}"})


def credentials_file(directory: Path, url: str, private_key_pem: str) -> Path:
    path = directory / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT,
                "private_key_id": "key-1",
                "private_key": private_key_pem,
                "client_email": CLIENT_EMAIL,
                "client_id": "1",
                "token_uri": f"{url}/token",
            }
        )
    )
    return path
