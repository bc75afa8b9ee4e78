"""The headers that let a receiver trust a webhook request.

Klaviyo's: `Klaviyo-Webhook-Id` (the endpoint's id), `Klaviyo-Timestamp` (IMF-fixdate) and
`Klaviyo-Signature` = hex(HMAC-SHA256(secret_key, raw body + Klaviyo-Timestamp)), body first,
no separator (semantics §11). And Standard Webhooks' (standardwebhooks.com): `webhook-id` (the
batch's id, the same on every attempt: the receiver's idempotency key), `webhook-timestamp`
(Unix seconds) and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`)
made by the `standardwebhooks` library, keyed by the secret's UTF-8 bytes: a receiver verifies
with `Webhook("whsec_" + base64(secret_key))`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import hmac

from standardwebhooks.webhooks import Webhook as StandardWebhook

USER_AGENT = "tidings-webhooks/1"


def klaviyo_signature(secret_key: str, body: bytes, timestamp: str) -> str:
    return hmac.new(secret_key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


def headers(
    *, endpoint_id: str, batch_id: str, secret_key: str, body: bytes, now: dt.datetime
) -> dict[str, str]:
    klaviyo_timestamp = email.utils.format_datetime(now.astimezone(dt.UTC), usegmt=True)
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Klaviyo-Webhook-Id": endpoint_id,
        "Klaviyo-Timestamp": klaviyo_timestamp,
        "Klaviyo-Signature": klaviyo_signature(secret_key, body, klaviyo_timestamp),
        "webhook-id": batch_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": StandardWebhook(secret_key.encode()).sign(batch_id, now, body),
    }
