"""`TIDINGS_EMAIL_PROVIDER=smtp` end to end: the transactional endpoint, the worker, the SMTP
provider, a local relay (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import time
from typing import Any

import dkim as pydkim
from fastapi.testclient import TestClient

from tests.conftest import AccountKeys
from tidings.config import Settings
from tidings.db.session import Database
from tidings.delivery import dkim, repository
from tidings.delivery.tables import MessageSend
from tidings.delivery.worker import deliver_due

from .smtp_sink import free_port, relay


def _send(client: TestClient, keys: AccountKeys, email: str, **more: Any) -> str:
    answer = client.post(
        "/api/x-tidings/message-sends",
        json={
            "data": {
                "type": "message-send",
                "attributes": {
                    **more,
                    "idempotency_key": f"k-{time.monotonic_ns()}",
                    "profile": {"email": email},
                    "subject": "Bonjour {{ first_name|default:'à vous' }}",
                    "html": "<p>Salut ☃</p>",
                },
            }
        },
        headers=keys.headers(),
    )
    assert answer.status_code == 202, answer.text
    return str(answer.json()["data"]["id"])


def _row(db: Database, account_id: str, send_id: str) -> MessageSend:
    with db.read() as session:
        row = repository.get(session, account_id, send_id)
    assert row is not None
    return row


def _smtp(settings: Settings, port: int) -> Settings:
    update: dict[str, Any] = {
        "email_provider": "smtp",
        "smtp_url": f"smtp://127.0.0.1:{port}",
        "smtp_timeout_seconds": 5,
    }
    return settings.model_copy(update=update)


def test_the_worker_sends_through_the_relay_the_bytes_it_stored(
    client: TestClient, db: Database, account: AccountKeys, settings: Settings
) -> None:
    with relay() as r:
        r.sink.fault("RCPT", "gone@example.com", "550 5.1.1 No such user")
        sent = _send(client, account, "ada@example.com")
        bounced = _send(client, account, "gone@example.com")
        deliver_due(db, _smtp(settings, r.port))
    row = _row(db, account.id, sent)
    assert row.status == "sent" and row.provider_ref and row.provider_ref.startswith("2.0.0 Ok: queued as")
    # the worker claims across accounts: other tests' due rows may go to this relay too
    (got,) = [m for m in r.sink.received if row.message_id.encode() in m.content]
    assert got.content == row.content and got.recipients == ["ada@example.com"]
    failed = _row(db, account.id, bounced)
    assert failed.status == "failed" and failed.reason and failed.reason.startswith("smtp 550 5.1.1")


def test_with_the_relay_down_the_message_waits(
    client: TestClient, db: Database, account: AccountKeys, settings: Settings
) -> None:
    send_id = _send(client, account, "ada@example.com")
    deliver_due(db, _smtp(settings, free_port()), rounds=1)
    row = _row(db, account.id, send_id)
    assert row.status == "planned" and row.attempts == 1
    assert row.reason == "relay unreachable" and row.content is not None  # the bytes kept for the retry


def test_mail_from_a_domain_with_a_key_arrives_signed_and_verifies(
    client: TestClient, db: Database, account: AccountKeys, settings: Settings
) -> None:
    with db.write() as session:
        record = dkim.create_sending_domain(session, account.id, "shop.example", bits=1024)
    with relay() as r:
        signed = _send(client, account, "ada@example.com", from_email="news@mail.shop.example")
        unsigned = _send(client, account, "bob@example.com", from_email="news@other.example")
        deliver_due(db, _smtp(settings, r.port))
    by_id = {m.content.split(b"Message-ID: ")[1].split(b"\r\n")[0]: m.content for m in r.sink.received}
    got = by_id[_row(db, account.id, signed).message_id.encode()]
    assert got.startswith(b"DKIM-Signature: ") and b"d=shop.example" in got
    assert pydkim.verify(got, dnsfunc=lambda name, timeout=5: record.value.encode())
    assert not by_id[_row(db, account.id, unsigned).message_id.encode()].startswith(b"DKIM-Signature")
