"""POST /webhooks/email/{provider}: SendGrid (ECDSA), Mailgun (HMAC) and Postmark (HTTP Basic)
events, refused without a valid proof, deduplicated, applied to the send they name."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.delivery.bounce_support import customer, events, metric_names, process, sent_email, suppressions

MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
POSTMARK_AUTH = "tidings:s3cret-hook"


@pytest.fixture
def sendgrid_key(settings, monkeypatch) -> ec.EllipticCurvePrivateKey:  # type: ignore[no-untyped-def]
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    monkeypatch.setattr(settings, "sendgrid_webhook_public_key", base64.b64encode(der).decode())
    monkeypatch.setattr(settings, "mailgun_webhook_signing_key", MAILGUN_KEY)
    monkeypatch.setattr(settings, "postmark_webhook_auth", POSTMARK_AUTH)
    return private


def _sendgrid(client, key: ec.EllipticCurvePrivateKey, batch: list[dict[str, Any]], *, forge: bool = False):  # type: ignore[no-untyped-def]
    body = json.dumps(batch).encode()
    timestamp = str(int(time.time()))
    signed = timestamp.encode() + (body + b" " if forge else body)
    signature = base64.b64encode(key.sign(signed, ec.ECDSA(hashes.SHA256()))).decode()
    return client.post(
        "/webhooks/email/sendgrid",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": signature,
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        },
    )


def _mailgun_body(event_data: dict[str, Any], *, key: str = MAILGUN_KEY) -> dict[str, Any]:
    timestamp, token = str(int(time.time())), "c1b2a3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9"
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": event_data,
    }


def _basic(credentials: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


def _error(response) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    [error] = response.json()["errors"]
    return error


def test_sendgrid_signed_events_bounce_and_complain(db, client, account, sendgrid_key) -> None:
    p1, e1 = customer(db, account.id)
    p2, e2 = customer(db, account.id)
    p3, e3 = customer(db, account.id)
    s1 = sent_email(db, account.id, p1, e1)
    s2 = sent_email(db, account.id, p2, e2)
    s3 = sent_email(db, account.id, p3, e3)
    now = int(time.time())
    batch = [
        {
            "email": e1,
            "timestamp": now,
            "event": "bounce",
            "type": "bounce",
            "status": "5.1.1",
            "reason": "550 5.1.1 The email account that you tried to reach does not exist",
            "sg_event_id": "ZGVsaXZlcmVk",
            "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
            "tidings_send_id": s1.send_id,
        },
        {
            "email": e2,
            "timestamp": now,
            "event": "spamreport",
            "sg_event_id": "c3BhbQ",
            "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.1",
            "smtp-id": s2.message_id,
        },
        {
            "email": e3,
            "timestamp": now,
            "event": "deferred",
            "response": "400 try again later",
            "sg_message_id": "x.2",
            "tidings_send_id": s3.send_id,
        },
        {
            "email": e3,
            "timestamp": now,
            "event": "delivered",
            "sg_message_id": "x.3",
            "tidings_send_id": s3.send_id,
        },
    ]
    response = _sendgrid(client, sendgrid_key, batch)
    assert response.status_code == 200, response.text
    assert response.json() == {"received": 2, "stored": 2}
    # SendGrid retries with new event ids: the same event is not stored twice.
    retried = [dict(item, sg_event_id=item.get("sg_event_id", "") + "x") for item in batch]
    assert _sendgrid(client, sendgrid_key, retried).json() == {"received": 2, "stored": 0}
    process(db)
    assert suppressions(client, account, p1) == ["HARD_BOUNCE"]
    [(_n, props)] = events(client, account, p1)
    assert props["Bounce Type"] == "hard"
    assert sorted(suppressions(client, account, p2)) == ["SPAM_COMPLAINT", "UNSUBSCRIBE"]
    assert metric_names(client, account, p3) == [] and suppressions(client, account, p3) == []


def test_sendgrid_refuses_a_forged_or_missing_signature(db, client, account, sendgrid_key) -> None:
    p1, e1 = customer(db, account.id)
    s1 = sent_email(db, account.id, p1, e1)
    batch = [
        {
            "email": e1,
            "timestamp": 1,
            "event": "bounce",
            "status": "5.1.1",
            "sg_message_id": "m",
            "tidings_send_id": s1.send_id,
        }
    ]
    forged = _sendgrid(client, sendgrid_key, batch, forge=True)
    assert forged.status_code == 403 and _error(forged)["code"] == "permission_denied"
    other_key = ec.generate_private_key(ec.SECP256R1())
    assert _sendgrid(client, other_key, batch).status_code == 403
    missing = client.post("/webhooks/email/sendgrid", content=json.dumps(batch))
    assert missing.status_code == 401 and _error(missing)["code"] == "not_authenticated"
    process(db)
    assert metric_names(client, account, p1) == []


def test_sendgrid_is_refused_when_not_configured(client) -> None:
    response = client.post("/webhooks/email/sendgrid", content=b"[]")
    assert response.status_code == 403


def test_mailgun_permanent_and_temporary_failures(db, client, account, sendgrid_key) -> None:
    p1, e1 = customer(db, account.id)
    p2, e2 = customer(db, account.id)
    s1 = sent_email(db, account.id, p1, e1)
    s2 = sent_email(db, account.id, p2, e2)
    permanent = {
        "event": "failed",
        "severity": "permanent",
        "recipient": e1,
        "timestamp": 1733519040.12,
        "delivery-status": {"code": 550, "message": "5.1.1 No such user"},
        "message": {"headers": {"message-id": s1.message_id.strip("<>")}},
    }
    temporary = {
        "event": "failed",
        "severity": "temporary",
        "recipient": e2,
        "timestamp": 1733519041.5,
        "delivery-status": {"code": 452, "message": "4.2.2 Mailbox full"},
        "message": {"headers": {"message-id": "20261206.abc@mailgun.example"}},
        "user-variables": {"tidings_send_id": s2.send_id},
    }
    for event in (permanent, temporary, permanent):
        response = client.post("/webhooks/email/mailgun", json=_mailgun_body(event))
        assert response.status_code == 200, response.text
    process(db)
    assert suppressions(client, account, p1) == ["HARD_BOUNCE"]
    assert metric_names(client, account, p1) == ["Bounced Email"]
    [(_n, props)] = events(client, account, p2)
    assert props["Bounce Type"] == "soft" and suppressions(client, account, p2) == []

    forged = client.post("/webhooks/email/mailgun", json=_mailgun_body(permanent, key="wrong"))
    assert forged.status_code == 403
    unsigned = client.post("/webhooks/email/mailgun", json={"event-data": permanent})
    assert unsigned.status_code == 401


def test_postmark_bounce_and_spam_complaint(db, client, account, sendgrid_key) -> None:
    p1, e1 = customer(db, account.id)
    p2, e2 = customer(db, account.id)
    s1 = sent_email(db, account.id, p1, e1)
    s2 = sent_email(db, account.id, p2, e2)
    bounce = {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": "HardBounce",
        "TypeCode": 1,
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Email": e1,
        "BouncedAt": "2026-12-06T21:02:11Z",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Inactive": True,
        "CanActivate": True,
        "Metadata": {"tidings_send_id": s1.send_id},
    }
    complaint = {
        "RecordType": "SpamComplaint",
        "ID": 42,
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "MessageID": "00000000-0000-0000-0000-000000000002",
        "Email": e2,
        "BouncedAt": "2026-12-06T22:00:00Z",
        "Metadata": {"tidings_send_id": s2.send_id},
    }
    for body in (bounce, complaint):
        response = client.post("/webhooks/email/postmark", json=body, headers=_basic(POSTMARK_AUTH))
        assert response.status_code == 200, response.text
    wrong = client.post("/webhooks/email/postmark", json=bounce, headers=_basic("tidings:guess"))
    assert wrong.status_code == 403 and _error(wrong)["code"] == "permission_denied"
    assert client.post("/webhooks/email/postmark", json=bounce).status_code == 401
    process(db)
    assert suppressions(client, account, p1) == ["HARD_BOUNCE"]
    assert "SPAM_COMPLAINT" in suppressions(client, account, p2)
    assert "Unsubscribed from Email Marketing" in metric_names(client, account, p2)


def test_a_webhook_event_changes_only_its_sends_account(
    db, client, account, other_account, sendgrid_key
) -> None:
    pa, email = customer(db, account.id, "twin@example.net")
    pb, _ = customer(db, other_account.id, "twin@example.net")
    sa = sent_email(db, account.id, pa, email)
    sent_email(db, other_account.id, pb, email)
    event = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "MessageID": "p-1",
        "Email": email,
        "BouncedAt": "2026-12-06T21:02:11Z",
        "Metadata": {"tidings_send_id": sa.send_id},
    }
    unknown = dict(event, MessageID="p-2", Metadata={"tidings_send_id": "01M96QC1VAAR4G127WRQMM5YR4"})
    for body in (event, unknown):
        assert (
            client.post("/webhooks/email/postmark", json=body, headers=_basic(POSTMARK_AUTH)).status_code
            == 200
        )
    process(db)
    assert suppressions(client, account, pa) == ["HARD_BOUNCE"]
    assert suppressions(client, other_account, pb) == []
    assert metric_names(client, other_account, pb) == []


def test_an_unknown_provider_and_a_body_that_is_not_json(client, sendgrid_key) -> None:
    unknown = client.post("/webhooks/email/mystery", content=b"{}")
    assert unknown.status_code == 404 and _error(unknown)["code"] == "not_found"
    broken = client.post("/webhooks/email/postmark", content=b"{not json", headers=_basic(POSTMARK_AUTH))
    assert broken.status_code == 400 and _error(broken)["code"] == "invalid"
