"""Push to Apple devices through APNs' HTTP/2 provider API, with token authentication.

The provider token is an ES256 JWT (`iss` the team id, `iat`, header `kid` the key id) signed
with the `.p8` key; Apple wants it refreshed no more than every 20 minutes and no less than
every hour, so it is made again every 50. Each message is one HTTP/2
`POST {apns_api_url}/3/device/{token}` on a shared connection (httpx with h2; an `http://`
URL, as in tests, speaks HTTP/2 cleartext with prior knowledge). The answer's `apns-id`
is the row's `provider_ref`.

`apns-collapse-id` is the ledger row's id: were a row ever delivered twice, the second
notification replaces the first on the device.

Errors: 410 `Unregistered`, 400 `BadDeviceToken` and `DeviceTokenNotForTopic` reject the
recipient (`tidings.delivery.push.token_rejected` unregisters the token); 429 and 5xx are
retryable after Retry-After; 403 `ExpiredProviderToken` makes a new token and is retryable;
the rest is permanent.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

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

TOKEN_LIFETIME = 50 * 60.0
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
REJECTING_REASONS = {"Unregistered", "BadDeviceToken", "DeviceTokenNotForTopic"}
STALE_TOKEN_REASONS = {"ExpiredProviderToken", "InvalidProviderToken"}


class ApnsProvider:
    name = "apns"

    def __init__(
        self,
        *,
        api_url: str,
        key_pem: str,
        key_id: str,
        team_id: str,
        topic: str,
        concurrency: int = 32,
    ) -> None:
        self.concurrency = concurrency  # streams on one HTTP/2 connection
        self.api_url = api_url.rstrip("/")
        self.key_pem, self.key_id, self.team_id, self.topic = key_pem, key_id, team_id, topic
        cleartext = self.api_url.startswith("http://")
        self._client = httpx.AsyncClient(
            http1=not cleartext,  # h2c needs prior knowledge: no HTTP/1.1 to upgrade from
            http2=True,
            timeout=TIMEOUT,
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=4),
        )
        self._token: str | None = None
        self._token_made = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ApnsProvider:
        needed = {
            "TIDINGS_APNS_KEY_FILE": settings.apns_key_file,
            "TIDINGS_APNS_KEY_ID": settings.apns_key_id,
            "TIDINGS_APNS_TEAM_ID": settings.apns_team_id,
            "TIDINGS_APNS_TOPIC": settings.apns_topic,
        }
        missing = [name for name, value in needed.items() if not value]
        if missing:
            raise ValueError(f"TIDINGS_PUSH_PROVIDER=apns needs {', '.join(missing)}")
        return cls(
            api_url=settings.apns_api_url,
            key_pem=Path(str(settings.apns_key_file)).read_text(encoding="utf-8"),
            key_id=str(settings.apns_key_id),
            team_id=str(settings.apns_team_id),
            topic=str(settings.apns_topic),
        )

    def provider_token(self) -> str:
        """The ES256 provider token, made again every 50 minutes."""
        now = time.monotonic()
        if self._token is None or now - self._token_made >= TOKEN_LIFETIME:
            self._token = jwt.encode(
                {"iss": self.team_id, "iat": int(time.time())},
                self.key_pem,
                algorithm="ES256",
                headers={"kid": self.key_id},
            )
            self._token_made = now
        return self._token

    def body(self, message: OutboundMessage) -> bytes:
        payload = PushPayload.model_validate_json(message.content)
        alert = {"body": payload.body} | ({"title": payload.title} if payload.title else {})
        aps: dict[str, Any] = {"alert": alert}
        if payload.sound:
            aps["sound"] = payload.sound
        if payload.badge is not None:
            aps["badge"] = payload.badge
        document: dict[str, Any] = {key: value for key, value in payload.data.items() if key != "aps"}
        document["aps"] = aps
        return json.dumps(document, separators=(",", ":")).encode()

    async def send(self, message: OutboundMessage) -> str:
        if message.sender not in (None, "ios"):
            raise PermanentSendError("apns_platform", f"APNs cannot reach a {message.sender} device")
        headers = {
            "authorization": f"bearer {self.provider_token()}",
            "apns-topic": self.topic,
            "apns-push-type": "alert",
            "apns-priority": "10",
            "apns-collapse-id": message.send_id[:64],
            "content-type": "application/json",
        }
        url = f"{self.api_url}/3/device/{quote(message.recipient, safe='')}"
        try:
            response = await self._client.post(url, content=self.body(message), headers=headers)
        except httpx.HTTPError as error:
            raise transport_error(self.name, error) from error
        if response.status_code == 200:
            return response.headers.get("apns-id") or message.send_id
        reason = str(json_object(response).get("reason") or response.status_code)
        if response.status_code == 429 or response.status_code >= 500:
            raise throttled(self.name, response, reason)
        if reason in REJECTING_REASONS:
            raise RecipientRejected(f"apns_{reason}", reason, status=str(response.status_code))
        if reason in STALE_TOKEN_REASONS:
            self._token = None
            raise RetryableSendError(f"apns_{reason}", reason)
        raise PermanentSendError(f"apns_{reason}"[:64], reason)

    async def close(self) -> None:
        await self._client.aclose()
