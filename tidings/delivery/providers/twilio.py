"""SMS through Twilio's Programmable Messaging API (or anything that speaks it).

One `POST {api}/2010-04-01/Accounts/{sid}/Messages.json` per message, form-encoded, with
basic auth (the account SID and auth token), over a pool of keep-alive connections. The
answer's `sid` (`SM...`) is the row's `provider_ref`; Twilio's status callbacks name it as
`MessageSid` (`tidings/delivery/routes_sms.py`).

Twilio takes no idempotency key: a request that went out without an answer raises
`AmbiguousSendError`, and the row is never sent again (the janitor's SMS policy).

Errors: 429 and 5xx are retryable (after Retry-After when given); a 400 with Twilio's code
21211 (invalid `To`), 21614 (not a mobile number) or 21610 (the recipient texted STOP to the
sender: `tidings.delivery.sms.recipient_unsubscribed` applies) is `RecipientRejected`; any
other refusal is permanent.
"""

from __future__ import annotations

import httpx

from tidings.config import Settings
from tidings.delivery.provider import OutboundMessage, PermanentSendError, RecipientRejected
from tidings.delivery.providers.common import json_object, throttled, transport_error

STATUS_CALLBACK_PATH = "/webhooks/sms/twilio/status"
INVALID_NUMBER = 21211
NOT_MOBILE = 21614
UNSUBSCRIBED_RECIPIENT = 21610
REJECTED_CODES = {INVALID_NUMBER, NOT_MOBILE, UNSUBSCRIBED_RECIPIENT}
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class TwilioProvider:
    name = "twilio"

    def __init__(
        self,
        *,
        api_url: str,
        account_sid: str,
        auth_token: str,
        sender: str,
        status_callback: str | None = None,
        concurrency: int = 8,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.concurrency = concurrency
        self.sender = sender
        self.status_callback = status_callback
        self.url = f"{api_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._client = httpx.AsyncClient(
            auth=httpx.BasicAuth(account_sid, auth_token),
            timeout=TIMEOUT,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            transport=transport,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioProvider:
        missing = [
            name
            for name, value in (
                ("TIDINGS_TWILIO_ACCOUNT_SID", settings.twilio_account_sid),
                ("TIDINGS_TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
                ("TIDINGS_TWILIO_FROM", settings.twilio_from),
            )
            if not value
        ]
        if missing:
            raise ValueError(f"TIDINGS_SMS_PROVIDER=twilio needs {', '.join(missing)}")
        assert settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from
        callback = status_callback_url(settings)
        return cls(
            api_url=settings.twilio_api_url,
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            sender=settings.twilio_from,
            status_callback=callback,
        )

    def form(self, message: OutboundMessage) -> dict[str, str]:
        """The request's form fields."""
        fields = {"To": message.recipient, "Body": message.content.decode("utf-8")}
        # A Messaging Service SID (MG...) picks the number itself; else the number sends.
        fields["MessagingServiceSid" if self.sender.startswith("MG") else "From"] = self.sender
        if message.media_url:
            fields["MediaUrl"] = message.media_url
        if self.status_callback:
            fields["StatusCallback"] = self.status_callback
        return fields

    async def send(self, message: OutboundMessage) -> str:
        try:
            response = await self._client.post(self.url, data=self.form(message))
        except httpx.HTTPError as error:
            raise transport_error(self.name, error) from error
        if response.status_code in (200, 201):
            sid = json_object(response).get("sid")
            if not isinstance(sid, str) or not sid:
                raise PermanentSendError("twilio_bad_answer", response.text[:500])
            return sid
        if response.status_code == 429 or response.status_code >= 500:
            raise throttled(self.name, response)
        body = json_object(response)
        code, text = body.get("code"), str(body.get("message") or response.text[:500])
        if code in REJECTED_CODES:
            raise RecipientRejected(f"twilio_{code}", text, status=str(code))
        reason = f"twilio_{code}" if isinstance(code, int) else f"twilio_{response.status_code}"
        raise PermanentSendError(reason, text)

    async def close(self) -> None:
        await self._client.aclose()


def status_callback_url(settings: Settings) -> str | None:
    """Where Twilio reports delivery: `{TIDINGS_PUBLIC_URL}/webhooks/sms/twilio/status` (none
    without a public URL, since Twilio could not reach it)."""
    if not settings.public_url:
        return None
    return settings.public_url.rstrip("/") + STATUS_CALLBACK_PATH
