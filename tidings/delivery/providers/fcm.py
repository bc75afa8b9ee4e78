"""Push through Firebase Cloud Messaging's HTTP v1 API.

Authentication is a service account's: a JWT signed with its private key (RS256) is exchanged
at its `token_uri` for an OAuth access token (the JWT-bearer grant, RFC 7523), kept until a
minute before it expires. Each message is one
`POST {fcm_api_url}/v1/projects/{project_id}/messages:send`; the answer's `name`
(`projects/p/messages/0:...`) is the row's `provider_ref`.

The row's content is a `PushPayload` (JSON); its recipient is the device's registration
token, for Android and iOS alike (FCM forwards to APNs), so the payload carries both an
`android` and an `apns` block.

Errors: `UNREGISTERED` (404), `INVALID_ARGUMENT` about the registration token (400) and
`SENDER_ID_MISMATCH` (403) reject the recipient (`tidings.delivery.push.token_rejected`
unregisters the token); 429 and 5xx are retryable after Retry-After; a 401 drops the cached
access token and is retryable; the rest is permanent.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt

from tidings.config import Settings
from tidings.delivery.messages import PushPayload
from tidings.delivery.provider import (
    OutboundMessage,
    PermanentSendError,
    RecipientRejected,
    RetryableSendError,
)
from tidings.delivery.providers.common import json_object, throttled, transport_error

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
REJECTING_CODES = {"UNREGISTERED", "SENDER_ID_MISMATCH"}


@dataclass(frozen=True)
class ServiceAccount:
    project_id: str
    client_email: str
    private_key: str
    private_key_id: str | None
    token_uri: str

    @classmethod
    def from_file(cls, path: str) -> ServiceAccount:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
        try:
            return cls(
                project_id=info["project_id"],
                client_email=info["client_email"],
                private_key=info["private_key"],
                private_key_id=info.get("private_key_id"),
                token_uri=info.get("token_uri") or "https://oauth2.googleapis.com/token",
            )
        except KeyError as missing:
            raise ValueError(f"{path}: the service account file has no {missing}") from None


class FcmProvider:
    name = "fcm"

    def __init__(
        self,
        *,
        api_url: str,
        account: ServiceAccount,
        concurrency: int = 16,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.concurrency = concurrency
        self.account = account
        self.url = f"{api_url.rstrip('/')}/v1/projects/{account.project_id}/messages:send"
        self._client = httpx.AsyncClient(
            timeout=TIMEOUT,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            transport=transport,
        )
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> FcmProvider:
        if not settings.fcm_credentials_file:
            raise ValueError("TIDINGS_PUSH_PROVIDER=fcm needs TIDINGS_FCM_CREDENTIALS_FILE")
        account = ServiceAccount.from_file(settings.fcm_credentials_file)
        return cls(api_url=settings.fcm_api_url, account=account)

    def grant_assertion(self, now: float | None = None) -> str:
        """The signed JWT the token endpoint exchanges for an access token."""
        issued = int(now if now is not None else time.time())
        claims = {
            "iss": self.account.client_email,
            "scope": SCOPE,
            "aud": self.account.token_uri,
            "iat": issued,
            "exp": issued + 3600,
        }
        headers = {"kid": self.account.private_key_id} if self.account.private_key_id else None
        return jwt.encode(claims, self.account.private_key, algorithm="RS256", headers=headers)

    async def access_token(self) -> str:
        """The cached access token, or a new one when it is missing or about to expire."""
        async with self._token_lock:
            if self._token is not None and time.monotonic() < self._token_expires:
                return self._token
            try:
                response = await self._client.post(
                    self.account.token_uri,
                    data={"grant_type": GRANT_TYPE, "assertion": self.grant_assertion()},
                )
            except httpx.HTTPError as error:
                # No message went out yet: always safe to retry.
                detail = f"{type(error).__name__}: {error}"
                raise RetryableSendError("fcm_auth_unreachable", detail) from error
            if response.status_code == 429 or response.status_code >= 500:
                raise throttled("fcm_auth", response)
            body = json_object(response)
            token = body.get("access_token")
            if response.status_code != 200 or not isinstance(token, str):
                raise PermanentSendError("fcm_auth_refused", response.text[:500])
            lifetime = float(body.get("expires_in", 3600))
            self._token = token
            self._token_expires = time.monotonic() + max(lifetime - 60, lifetime / 2)
            return token

    def body(self, message: OutboundMessage) -> dict[str, Any]:
        payload = PushPayload.model_validate_json(message.content)
        notification = {"body": payload.body} | ({"title": payload.title} if payload.title else {})
        aps: dict[str, Any] = {}
        if payload.sound:
            aps["sound"] = payload.sound
        if payload.badge is not None:
            aps["badge"] = payload.badge
        android: dict[str, Any] = {"priority": "high"}
        if payload.sound:
            android["notification"] = {"sound": payload.sound}
        fcm_message: dict[str, Any] = {
            "token": message.recipient,
            "notification": notification,
            "data": payload.data,
            "android": android,
            # Shown once even if sent twice: the same collapse id replaces the first.
            "apns": {"headers": {"apns-collapse-id": message.send_id[:64]}, "payload": {"aps": aps}},
        }
        return {"message": fcm_message}

    async def send(self, message: OutboundMessage) -> str:
        body = self.body(message)
        token = await self.access_token()
        try:
            response = await self._client.post(
                self.url, json=body, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as error:
            raise transport_error(self.name, error) from error
        if response.status_code == 200:
            name = json_object(response).get("name")
            if not isinstance(name, str) or not name:
                raise PermanentSendError("fcm_bad_answer", response.text[:500])
            return name
        if response.status_code == 429 or response.status_code >= 500:
            raise throttled(self.name, response)
        status, code, text = _error(response)
        if response.status_code == 401:
            self._token = None  # expired or revoked early: the next attempt asks again
            raise RetryableSendError("fcm_unauthenticated", text)
        if code in REJECTING_CODES or (code == "INVALID_ARGUMENT" and _about_token(text)):
            raise RecipientRejected(f"fcm_{code.lower()}", text, status=code)
        raise PermanentSendError(f"fcm_{(code or status or str(response.status_code)).lower()}", text)

    async def close(self) -> None:
        await self._client.aclose()


def _error(response: httpx.Response) -> tuple[str | None, str | None, str]:
    """(the google.rpc status, FCM's errorCode, the message) of an error answer."""
    error = json_object(response).get("error")
    if not isinstance(error, dict):
        return None, None, response.text[:500]
    status = error.get("status") if isinstance(error.get("status"), str) else None
    code = status
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("FcmError"):
            code = detail.get("errorCode") or code
    return status, code, str(error.get("message") or response.text[:500])


def _about_token(text: str) -> bool:
    """INVALID_ARGUMENT also means a bad payload; only a bad token rejects the recipient."""
    lowered = text.lower()
    return "registration token" in lowered or "message.token" in lowered
