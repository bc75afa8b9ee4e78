"""A message sent by the delivery worker comes back: its own bytes, quoted in a DSN and in an
ARF report, name it; the events carry what the worker recorded for it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.delivery import bounce_fixtures as fx
from tests.delivery.bounce_support import email_marketing, events, process
from tidings.config import Settings
from tidings.delivery import inbound
from tidings.delivery.tables import MessageSend
from tidings.delivery.worker import deliver_due

SENDS = "/api/x-tidings/message-sends"


@pytest.fixture
def outbox_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"outbox_dir": str(tmp_path / "outbox")})


def _sent(client, db, account, settings: Settings, address: str) -> tuple[MessageSend, str]:  # type: ignore[no-untyped-def]
    body = {
        "data": {
            "type": "message-send",
            "attributes": {
                "idempotency_key": f"k-{time.monotonic_ns()}",
                "profile": {"email": address},
                "subject": "Your order has shipped",
                "html": "<html><body><p>On its way.</p></body></html>",
            },
        }
    }
    answer = client.post(SENDS, json=body, headers=account.headers())
    assert answer.status_code == 202, answer.text
    deliver_due(db, settings)
    with db.read() as session:
        row = session.get(MessageSend, (account.id, answer.json()["data"]["id"]))
        assert row is not None and row.status == "sent"
    (path,) = Path(settings.outbox_dir).glob(f"*/{row.id}.eml")
    return row, path.read_text()


def _store(db, raw: bytes) -> None:  # type: ignore[no-untyped-def]
    with db.write() as session:
        inbound.store_message(session, "smtp", raw, ["postmaster@shop.example"])


def test_a_sent_message_bounces_back_in_a_gmail_dsn(client, db, account, outbox_settings) -> None:
    row, original = _sent(client, db, account, outbox_settings, "gone@example.com")
    failure = (
        "gone@example.com",
        "failed",
        "5.1.1",
        "550-5.1.1 The email account that you tried to reach does not exist.",
    )
    _store(db, fx.gmail_dsn(to="postmaster@shop.example", recipients=[failure], original=original))
    process(db)
    [bounced] = [props for name, props in events(client, account, row.profile_id) if name == "Bounced Email"]
    assert bounced["Bounce Type"] == "hard"
    assert bounced["Subject"] == "Your order has shipped" and bounced["Email Domain"] == "example.com"
    assert [s["reason"] for s in email_marketing(client, account, row.profile_id)["suppression"]] == [
        "HARD_BOUNCE"
    ]


def test_a_sent_message_comes_back_as_a_complaint(client, db, account, outbox_settings) -> None:
    row, original = _sent(client, db, account, outbox_settings, "annoyed@example.com")
    _store(db, fx.yahoo_arf(to="fbl@shop.example", rcpt="annoyed@example.com", original=original))
    process(db)
    names = [name for name, _props in events(client, account, row.profile_id)]
    assert "Marked Email as Spam" in names and "Unsubscribed from Email Marketing" in names
    marketing = email_marketing(client, account, row.profile_id)
    assert marketing["consent"] == "UNSUBSCRIBED"
