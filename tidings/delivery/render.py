"""The JSON:API resources of the delivery domain."""

from __future__ import annotations

from typing import Any

from tidings.delivery.tables import MessageSend, SendStatus, SourceKind
from tidings.jsonapi.documents import Urls, iso, resource

COLLECTION = "x-tidings/message-sends"


def send_attributes(send: MessageSend) -> dict[str, Any]:
    key = send.idempotency_key
    return {
        "idempotency_key": key[2:] if send.source_kind == SourceKind.API else key,
        "channel": send.channel,
        "profile_id": send.profile_id,
        "status": send.status,
        "reason": send.reason,
        "detail": send.detail,
        "source_kind": send.source_kind,
        "source_id": send.source_id,
        "recipient": send.recipient,
        "message_id": send.message_id,
        "provider_ref": send.provider_ref,
        "attempts": send.attempts,
        "resends": send.resends,
        "created": iso(send.created),
        "planned_for": iso(send.planned_for),
        "sent_at": iso(send.finished_at) if send.status == SendStatus.SENT else None,
        "finished_at": iso(send.finished_at),
    }


def send_resource(urls: Urls, send: MessageSend) -> dict[str, Any]:
    return resource("message-send", send.id, send_attributes(send), urls.resource(COLLECTION, send.id))
