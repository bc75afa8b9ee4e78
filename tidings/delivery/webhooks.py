"""Email providers' event webhooks: each request's proof checked, its events read into one shape.

- SendGrid (Event Webhook): a JSON array of events, signed with ECDSA P-256 over the
  `X-Twilio-Email-Event-Webhook-Timestamp` header followed by the raw body; the signature is the
  base64 DER in `X-Twilio-Email-Event-Webhook-Signature`, checked with the public key SendGrid
  shows (`TIDINGS_SENDGRID_WEBHOOK_PUBLIC_KEY`).
- Mailgun: one event a request, `{"signature": {timestamp, token, signature}, "event-data": ...}`,
  where `signature` is the hex HMAC-SHA256 of timestamp + token under the signing key.
- Postmark: one record a request, authenticated by HTTP Basic credentials in the webhook URL.

Each event becomes `{event: bounce|complaint|dropped, bounce_type, recipient, status, detail,
send_id, message_id}` with its dedup key (provider message id, event, recipient, timestamp;
never the provider's event id alone, which SendGrid changes on retries). Other events
(delivered, deferred, opens ...) are not read here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

from tidings.config import Settings
from tidings.delivery.dsn import BounceType, classify

PROVIDERS = ("sendgrid", "mailgun", "postmark")
SEND_ID_KEYS = ("tidings_send_id", "X-Tidings-Send-Id", "x-tidings-send-id")
SENDGRID_SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
POSTMARK_HARD = {"HardBounce", "BadEmailAddress", "ManuallyDeactivated"}
POSTMARK_SOFT = {
    "SoftBounce",
    "Transient",
    "DnsError",
    "SpamNotification",
    "VirusNotification",
    "DMARCPolicy",
}


class WebhookRefused(Exception):
    """The request cannot be taken: `status` 401 (no proof), 403 (a wrong one, or the provider is
    not configured), 400 (not the provider's shape)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class ProviderEvent:
    dedup_key: str
    event: dict[str, Any]


def read(provider: str, settings: Settings, headers: Mapping[str, str], body: bytes) -> list[ProviderEvent]:
    """Check the request's proof, then read its events (raises WebhookRefused)."""
    if provider == "sendgrid":
        _check_sendgrid(settings.sendgrid_webhook_public_key, headers, body)
        events = _json(body)
        if not isinstance(events, list):
            raise WebhookRefused(400, "SendGrid posts a JSON array of events.")
        return [e for item in events if isinstance(item, dict) and (e := _sendgrid_event(item))]
    if provider == "mailgun":
        payload = _json(body)
        if not isinstance(payload, dict):
            raise WebhookRefused(400, "Mailgun posts a JSON object.")
        _check_mailgun(settings.mailgun_webhook_signing_key, payload.get("signature"))
        event = _mailgun_event(payload.get("event-data") or {})
        return [event] if event else []
    if provider == "postmark":
        _check_postmark(settings.postmark_webhook_auth, headers.get("authorization"))
        payload = _json(body)
        if not isinstance(payload, dict):
            raise WebhookRefused(400, "Postmark posts a JSON object.")
        event = _postmark_event(payload)
        return [event] if event else []
    raise WebhookRefused(404, f"No email provider {provider!r}; these are known: {', '.join(PROVIDERS)}.")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise WebhookRefused(400, "The body is not JSON.") from None


def _check_sendgrid(key: str | None, headers: Mapping[str, str], body: bytes) -> None:
    if not key:
        raise WebhookRefused(
            403, "SendGrid webhooks are not configured (TIDINGS_SENDGRID_WEBHOOK_PUBLIC_KEY)."
        )
    signature, timestamp = headers.get(SENDGRID_SIGNATURE.lower()), headers.get(SENDGRID_TIMESTAMP.lower())
    if not signature or not timestamp:
        raise WebhookRefused(401, f"The request has no {SENDGRID_SIGNATURE} and {SENDGRID_TIMESTAMP}.")
    try:
        public = (
            load_pem_public_key(key.encode())
            if key.lstrip().startswith("-----")
            else load_der_public_key(base64.b64decode(key))
        )
        assert isinstance(public, ec.EllipticCurvePublicKey)
        public.verify(base64.b64decode(signature), timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, binascii.Error, AssertionError):
        raise WebhookRefused(403, "The SendGrid signature does not match.") from None


def _check_mailgun(key: str | None, signature: Any) -> None:
    if not key:
        raise WebhookRefused(
            403, "Mailgun webhooks are not configured (TIDINGS_MAILGUN_WEBHOOK_SIGNING_KEY)."
        )
    if not isinstance(signature, dict) or not all(
        isinstance(signature.get(k), str | int) for k in ("timestamp", "token", "signature")
    ):
        raise WebhookRefused(401, "The request has no signature.")
    expected = hmac.new(
        key.encode(), f"{signature['timestamp']}{signature['token']}".encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, str(signature["signature"])):
        raise WebhookRefused(403, "The Mailgun signature does not match.")


def _check_postmark(credentials: str | None, authorization: str | None) -> None:
    if not credentials:
        raise WebhookRefused(403, "Postmark webhooks are not configured (TIDINGS_POSTMARK_WEBHOOK_AUTH).")
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic" or not value:
        raise WebhookRefused(401, "The request has no HTTP Basic authorization.")
    try:
        given = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        given = b""
    if not hmac.compare_digest(given, credentials.encode()):
        raise WebhookRefused(403, "The Postmark credentials do not match.")


def _normalised(kind: str, key: tuple[Any, ...], **fields: Any) -> ProviderEvent:
    event = {"event": kind, **{k: (str(v)[:1000] if v is not None else None) for k, v in fields.items()}}
    return ProviderEvent("|".join(str(part) for part in key)[:240], event)


def _send_id(values: Mapping[str, Any]) -> str | None:
    return next((str(values[k]) for k in SEND_ID_KEYS if values.get(k)), None)


def _bracketed(message_id: Any) -> str | None:
    if not message_id:
        return None
    text = str(message_id).strip()
    return text if text.startswith("<") else f"<{text}>"


def _sendgrid_event(item: dict[str, Any]) -> ProviderEvent | None:
    name = item.get("event")
    if name not in ("bounce", "blocked", "dropped", "spamreport"):
        return None
    key = ("sendgrid", item.get("sg_message_id"), name, item.get("email"), item.get("timestamp"))
    common = {
        "recipient": item.get("email"),
        "send_id": _send_id(item),
        "message_id": _bracketed(item.get("smtp-id")),
    }
    if name == "spamreport":
        return _normalised("complaint", key, **common)
    if name == "dropped":
        return _normalised("dropped", key, detail=item.get("reason"), **common)
    status, reason = item.get("status"), item.get("reason")
    if name == "blocked" or item.get("type") == "blocked":
        bounce_type = BounceType.SOFT
    else:
        bounce_type = classify(str(status or ""), str(reason or "")) or BounceType.HARD
    return _normalised("bounce", key, bounce_type=bounce_type.value, status=status, detail=reason, **common)


def _mailgun_event(data: dict[str, Any]) -> ProviderEvent | None:
    name = data.get("event")
    if name not in ("failed", "complained"):
        return None
    message = data.get("message") or {}
    headers = message.get("headers") or {} if isinstance(message, dict) else {}
    message_id = headers.get("message-id") if isinstance(headers, dict) else None
    variables = data.get("user-variables") or {}
    key = ("mailgun", message_id, name, data.get("recipient"), data.get("timestamp"))
    common = {
        "recipient": data.get("recipient"),
        "send_id": _send_id(variables) if isinstance(variables, dict) else None,
        "message_id": _bracketed(message_id),
    }
    if name == "complained":
        return _normalised("complaint", key, **common)
    status = data.get("delivery-status") or {}
    status = status if isinstance(status, dict) else {}
    severity = data.get("severity")
    bounce_type = BounceType.HARD if severity == "permanent" else BounceType.SOFT
    detail = status.get("message") or status.get("description")
    return _normalised(
        "bounce", key, bounce_type=bounce_type.value, status=status.get("code"), detail=detail, **common
    )


def _postmark_event(record: dict[str, Any]) -> ProviderEvent | None:
    kind = record.get("RecordType")
    metadata = record.get("Metadata") or {}
    when = record.get("BouncedAt") or record.get("ReceivedAt")
    common = {
        "recipient": record.get("Email"),
        "send_id": _send_id(metadata) if isinstance(metadata, dict) else None,
        "message_id": None,
    }
    if kind == "SpamComplaint" or record.get("Type") == "SpamComplaint":
        key = ("postmark", record.get("MessageID"), "SpamComplaint", record.get("Email"), when)
        return _normalised("complaint", key, **common)
    if kind != "Bounce":
        return None
    bounce = record.get("Type")
    if bounce in POSTMARK_HARD:
        bounce_type = BounceType.HARD
    elif bounce in POSTMARK_SOFT:
        bounce_type = BounceType.SOFT
    else:
        return None  # auto-responders, subscribe requests, challenge verifications ...
    key = ("postmark", record.get("MessageID"), bounce, record.get("Email"), when)
    detail = record.get("Details") or record.get("Description")
    return _normalised("bounce", key, bounce_type=bounce_type.value, status=bounce, detail=detail, **common)
