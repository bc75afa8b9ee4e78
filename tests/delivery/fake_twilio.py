"""A fake of Twilio's Messages API: checks basic auth and the form, answers Twilio's JSON.

`fail` queues answers to give instead of taking the next messages (status, Twilio error
code, headers); `taken` lists the forms of the messages taken. `sign` computes
X-Twilio-Signature as Twilio documents it, written independently of tidings.delivery.sms,
so the webhook tests cross-check our verifier.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "fake-auth-token-1234"


def sign(auth_token: str, url: str, form: dict[str, str]) -> str:
    """Twilio: take the full URL, append each POST variable name and value, the names in
    alphabetical order, HMAC-SHA1 it with the auth token, base64 it."""
    data = url
    for name in sorted(form):
        data += name + form[name]
    mac = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


@dataclass
class Failure:
    status: int
    code: int | None = None
    message: str = "failed"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    taken: list[dict[str, str]] = field(default_factory=list)
    fail: list[Failure] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(
            routes=[Route("/2010-04-01/Accounts/{sid}/Messages.json", self.create, methods=["POST"])]
        )

    def _error(
        self, status: int, code: int | None, message: str, headers: dict[str, str] | None = None
    ) -> JSONResponse:
        body: dict[str, Any] = {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        return JSONResponse(body, status_code=status, headers=headers)

    async def create(self, request: Request) -> JSONResponse:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if (
            request.headers.get("authorization") != f"Basic {expected}"
            or request.path_params["sid"] != self.account_sid
        ):
            return self._error(401, 20003, "Authenticate")
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        if self.fail:
            failure = self.fail.pop(0)
            return self._error(failure.status, failure.code, failure.message, failure.headers)
        if not form.get("To"):
            return self._error(400, 21604, "A 'To' phone number is required.")
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return self._error(400, 21603, "A 'From' phone number is required.")
        if not (form.get("Body") or form.get("MediaUrl")):
            return self._error(400, 21602, "Message body is required.")
        self.taken.append(form)
        sid = "SM" + secrets.token_hex(16)
        return JSONResponse(
            {
                "account_sid": self.account_sid,
                "api_version": "2010-04-01",
                "body": form.get("Body", ""),
                "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "num_media": "1" if form.get("MediaUrl") else "0",
                "num_segments": "1",
                "price": None,
                "sid": sid,
                "status": "accepted" if form.get("MessagingServiceSid") else "queued",
                "to": form["To"],
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            },
            status_code=201,
        )
