"""Sending end to end: the transactional endpoint, the gate, rendering, the providers, outcomes.

Messages go to the outbox provider in a temporary folder (email) and the log provider (SMS,
push); `deliver_due` runs the delivery worker's claim, send and settle in the test's thread.
"""

from __future__ import annotations

import email
import email.policy
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import AccountKeys
from tidings.config import Settings
from tidings.consent.tables import EmailSuppression
from tidings.db.session import Database
from tidings.delivery.provider import (
    AmbiguousSendError,
    OutboundMessage,
    PermanentSendError,
    RecipientRejected,
    RetryableSendError,
)
from tidings.delivery.tables import Channel, MessageSend
from tidings.delivery.verp import parse_return_path
from tidings.delivery.worker import DeliveryWorker, deliver_due
from tidings.events.tables import Event, Metric
from tidings.templates.links import instance_secret

SENDS = "/api/x-tidings/message-sends"


@pytest.fixture
def outbox_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"outbox_dir": str(tmp_path / "outbox")})


def _send(client: TestClient, keys: AccountKeys, **attributes: Any) -> Any:
    attributes.setdefault("idempotency_key", f"k-{time.monotonic_ns()}")
    attributes.setdefault("profile", {"email": "ada@example.com"})
    attributes.setdefault("subject", "Hello {{ first_name|default:'there' }}")
    attributes.setdefault("html", "<html><body><p>Hi {{ first_name }}</p></body></html>")
    return client.post(
        SENDS,
        json={"data": {"type": "message-send", "attributes": attributes}},
        headers=keys.headers(),
    )


def _row(db: Database, account_id: str, send_id: str) -> MessageSend:
    with db.read() as session:
        row = session.get(MessageSend, (account_id, send_id))
        assert row is not None
        return row


def _events(db: Database, account_id: str, profile_id: str) -> list[tuple[str, dict[str, Any]]]:
    with db.read() as session:
        rows = session.execute(
            select(Metric.name, Event.properties)
            .join(Metric, (Metric.account_id == Event.account_id) & (Metric.id == Event.metric_id))
            .where(Event.account_id == account_id, Event.profile_id == profile_id)
            .order_by(Event.id)
        ).all()
    return [(name, dict(props or {})) for name, props in rows]


def _eml(settings: Settings, send_id: str) -> email.message.EmailMessage:
    (path,) = Path(settings.outbox_dir).glob(f"*/{send_id}.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def test_a_transactional_email_is_written_to_the_outbox_with_its_event(
    client: TestClient, db: Database, account: AccountKeys, outbox_settings: Settings
) -> None:
    answer = _send(client, account, profile={"email": "ada@example.com"}, from_label="Ada's Shop")
    assert answer.status_code == 202, answer.text
    send = answer.json()["data"]
    assert send["type"] == "message-send"
    assert send["attributes"]["status"] == "planned"

    deliver_due(db, outbox_settings)
    row = _row(db, account.id, send["id"])
    assert row.status == "sent"
    assert row.recipient == "ada@example.com"
    message = _eml(outbox_settings, row.id)
    assert message["Message-ID"] == row.message_id
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Hello there"
    assert "Ada's Shop" in message["From"]
    assert message["List-Unsubscribe"] is None  # transactional: no unsubscribe
    assert message["X-Tidings-Send-Id"] == row.id
    html = message.get_body(("html",))
    assert html is not None and "<p>Hi" in html.get_content()
    assert message.get_body(("plain",)) is not None

    received = [props for name, props in _events(db, account.id, row.profile_id) if name == "Received Email"]
    assert len(received) == 1
    assert received[0]["Subject"] == "Hello there"
    assert received[0]["Email Domain"] == "example.com"
    assert received[0]["$event_id"] == f"{row.id}:sent"

    shown = client.get(f"{SENDS}/{row.id}", headers=account.headers()).json()["data"]["attributes"]
    assert shown["status"] == "sent"
    assert shown["provider_ref"].endswith(f"{row.id}.eml")
    assert shown["sent_at"] is not None


def test_the_same_key_sends_once_and_another_message_under_it_is_a_conflict(
    client: TestClient, db: Database, account: AccountKeys, outbox_settings: Settings
) -> None:
    first = _send(client, account, idempotency_key="order-1001")
    again = _send(client, account, idempotency_key="order-1001")
    assert again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    other = _send(client, account, idempotency_key="order-1001", subject="Another message")
    assert other.status_code == 409
    assert other.json()["errors"][0]["code"] == "conflict"
    deliver_due(db, outbox_settings)
    deliver_due(db, outbox_settings)
    send_id = first.json()["data"]["id"]
    assert _row(db, account.id, send_id).attempts == 1
    assert len(list(Path(outbox_settings.outbox_dir).glob(f"*/{send_id}.eml"))) == 1
    with db.read() as session:
        keyed = session.execute(
            select(MessageSend.id).where(
                MessageSend.account_id == account.id, MessageSend.idempotency_key == "a:order-1001"
            )
        ).all()
    assert len(keyed) == 1


def test_marketing_email_carries_one_click_unsubscribe_and_respects_consent(
    client: TestClient, db: Database, account: AccountKeys, outbox_settings: Settings
) -> None:
    answer = _send(client, account, profile={"email": "grace@example.com"}, transactional=False)
    deliver_due(db, outbox_settings)
    row = _row(db, account.id, answer.json()["data"]["id"])
    message = _eml(outbox_settings, row.id)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/p/unsubscribe?t=" in message["List-Unsubscribe"]

    # Unsubscribed: the next marketing email is skipped, with Klaviyo's reason.
    suppressed = client.post(
        "/api/profile-subscription-bulk-delete-jobs",
        json={
            "data": {
                "type": "profile-subscription-bulk-delete-job",
                "attributes": {
                    "profiles": {
                        "data": [
                            {
                                "type": "profile",
                                "attributes": {
                                    "email": "grace@example.com",
                                    "subscriptions": {"email": {"marketing": {"consent": "UNSUBSCRIBED"}}},
                                },
                            }
                        ]
                    }
                },
            }
        },
        headers=account.headers(),
    )
    assert suppressed.status_code == 202, suppressed.text
    from tidings.jobs.worker import drain

    drain(db)
    later = _send(client, account, profile={"email": "grace@example.com"}, transactional=False)
    deliver_due(db, outbox_settings)
    skipped = _row(db, account.id, later.json()["data"]["id"])
    assert skipped.status == "skipped"
    assert skipped.reason in {"Not Subscribed", "Person Suppressed"}
    # A transactional email still goes.
    receipt = _send(client, account, profile={"email": "grace@example.com"})
    deliver_due(db, outbox_settings)
    assert _row(db, account.id, receipt.json()["data"]["id"]).status == "sent"


def test_smart_sending_skips_a_second_marketing_email_within_the_window(
    client: TestClient, db: Database, account: AccountKeys, outbox_settings: Settings
) -> None:
    first = _send(client, account, profile={"email": "lin@example.com"}, transactional=False)
    second = _send(client, account, profile={"email": "lin@example.com"}, transactional=False)
    deliver_due(db, outbox_settings)
    assert _row(db, account.id, first.json()["data"]["id"]).status == "sent"
    skipped = _row(db, account.id, second.json()["data"]["id"])
    assert (skipped.status, skipped.reason) == ("skipped", "Smart Sending")


def test_header_injection_from_profile_data_adds_no_header(
    client: TestClient, db: Database, account: AccountKeys, outbox_settings: Settings
) -> None:
    answer = _send(
        client,
        account,
        profile={"email": "mal@example.com"},
        subject="Hi {{ person|lookup:'title' }}",
        from_label="Shop\r\nBcc: victim@example.net",
    )
    profile_id = answer.json()["data"]["attributes"]["profile_id"]
    client.patch(
        f"/api/profiles/{profile_id}",
        json={
            "data": {
                "type": "profile",
                "id": profile_id,
                "attributes": {"title": "x\r\nBcc: victim@example.net"},
            }
        },
        headers=account.headers(),
    )
    deliver_due(db, outbox_settings)
    raw = next(Path(outbox_settings.outbox_dir).glob(f"*/{answer.json()['data']['id']}.eml")).read_bytes()
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in headers
    assert headers.count(b"\r\nSubject:") == 1


def test_a_template_that_fails_skips_that_message_and_the_batch_goes_on(
    client: TestClient, db: Database, account: AccountKeys, outbox_settings: Settings
) -> None:
    good = _send(client, account, profile={"email": "one@example.com"})
    bad = _send(client, account, profile={"email": "two@example.com"}, html="{% if %}broken{% endif %}")
    deliver_due(db, outbox_settings)
    assert _row(db, account.id, good.json()["data"]["id"]).status == "sent"
    skipped = _row(db, account.id, bad.json()["data"]["id"])
    assert (skipped.status, skipped.reason) == ("skipped", "Email Syntax Error")


def test_sms_needs_consent_and_goes_through_the_log_provider(
    client: TestClient, db: Database, account: AccountKeys, outbox_settings: Settings
) -> None:
    no_consent = _send(
        client, account, channel="sms", profile={"phone_number": "+16175550100"}, body="Your code is 1234"
    )
    assert no_consent.status_code == 202, no_consent.text
    no_phone = _send(client, account, channel="sms", profile={"email": "nophone@example.com"}, body="Hi")
    deliver_due(db, outbox_settings)
    row = _row(db, account.id, no_consent.json()["data"]["id"])
    assert (row.status, row.reason) == ("skipped", "Not Subscribed")
    missing = _row(db, account.id, no_phone.json()["data"]["id"])
    assert (missing.status, missing.reason) == ("skipped", "Missing Phone Number")


def test_bad_requests_name_the_field(client: TestClient, account: AccountKeys) -> None:
    no_content = _send(client, account, html=None)
    assert no_content.status_code == 400
    assert no_content.json()["errors"][0]["source"]["pointer"] == "/data/attributes/template_id"
    bad_from = _send(client, account, from_email="not an address")
    assert bad_from.status_code == 400
    assert bad_from.json()["errors"][0]["source"]["pointer"] == "/data/attributes/from_email"
    no_body = _send(client, account, channel="sms", profile={"phone_number": "+16175550101"}, body=None)
    assert no_body.status_code == 400
    assert no_body.json()["errors"][0]["source"]["pointer"] == "/data/attributes/body"
    no_profile = _send(client, account, profile={})
    assert no_profile.status_code == 400
    missing_template = _send(client, account, html=None, template_id="XXXXXX")
    assert missing_template.status_code == 404


class ScriptedProvider:
    """Answers each send with the next scripted error, then accepts."""

    name = "scripted"
    concurrency = 4

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.sent: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> str:
        self.sent.append(message)
        if self.errors:
            raise self.errors.pop(0)
        return f"ok-{len(self.sent)}"

    async def close(self) -> None:
        return None


def test_a_retry_sends_the_same_bytes_and_a_permanent_refusal_is_recorded(
    client: TestClient, db: Database, account: AccountKeys, outbox_settings: Settings
) -> None:
    from tidings.db.base import set_clock, utcnow

    answer = _send(client, account, profile={"email": "retry@example.com"})
    provider = ScriptedProvider(RetryableSendError("smtp 451 4.7.1 try later"))
    deliver_due(db, outbox_settings, providers_by_channel={Channel.EMAIL: provider})
    row = _row(db, account.id, answer.json()["data"]["id"])
    assert (row.status, row.reason) == ("planned", "smtp 451 4.7.1 try later")
    later = utcnow()
    set_clock(lambda: later + __import__("datetime").timedelta(minutes=5))
    try:
        deliver_due(db, outbox_settings, providers_by_channel={Channel.EMAIL: provider})
    finally:
        set_clock(None)
    assert _row(db, account.id, row.id).status == "sent"
    assert provider.sent[0].content == provider.sent[1].content  # byte-identical

    dropped = _send(client, account, profile={"email": "drop@example.com"})
    bounced = _send(client, account, profile={"email": "gone@example.com"})
    deliver_due(
        db,
        outbox_settings,
        providers_by_channel={
            Channel.EMAIL: ScriptedProvider(
                PermanentSendError("smtp 554 5.7.1 rejected"),
                RecipientRejected("smtp 550 5.1.1 no such user", status="5.1.1"),
            )
        },
    )
    failed = _row(db, account.id, dropped.json()["data"]["id"])
    rejected = _row(db, account.id, bounced.json()["data"]["id"])
    assert failed.status == rejected.status == "failed"
    names = {name for name, _ in _events(db, account.id, failed.profile_id)}
    assert "Dropped Email" in names
    bounce = [p for n, p in _events(db, account.id, rejected.profile_id) if n == "Bounced Email"]
    assert len(bounce) == 1 and bounce[0]["Bounce Type"] == "hard"
    with db.read() as session:
        reasons = (
            session.execute(
                select(EmailSuppression.reason).where(
                    EmailSuppression.account_id == account.id,
                    EmailSuppression.profile_id == rejected.profile_id,
                )
            )
            .scalars()
            .all()
        )
    assert reasons == ["HARD_BOUNCE"]


def test_with_a_bounce_domain_the_return_path_names_the_send(
    client: TestClient, db: Database, account: AccountKeys, outbox_settings: Settings
) -> None:
    answer = _send(client, account, profile={"email": "verp@example.com"})
    deliver_due(db, outbox_settings.model_copy(update={"bounce_domain": "bounce.example.com"}))
    row = _row(db, account.id, answer.json()["data"]["id"])
    assert row.sender is not None and row.sender.startswith("bounces+")
    assert row.sender.endswith("@bounce.example.com")
    with db.read() as session:
        secret = instance_secret(session, outbox_settings.secret_key)
    assert parse_return_path(row.sender, secret) == (account.id, row.id)


def test_the_running_worker_sends_what_becomes_due(
    client: TestClient, db: Database, account: AccountKeys, outbox_settings: Settings
) -> None:
    worker = DeliveryWorker(db, outbox_settings)
    worker.start()
    try:
        answer = _send(client, account, profile={"email": "soon@example.com"})
        send_id = answer.json()["data"]["id"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _row(db, account.id, send_id).status != "sent":
            time.sleep(0.05)
    finally:
        worker.stop()
    assert _row(db, account.id, send_id).status == "sent"


def test_another_accounts_key_cannot_see_or_reuse_a_send(
    client: TestClient, db: Database, account: AccountKeys, other_account: AccountKeys
) -> None:
    mine = _send(client, account, idempotency_key="shared-key").json()["data"]
    assert client.get(f"{SENDS}/{mine['id']}", headers=other_account.headers()).status_code == 404
    listed = client.get(SENDS, headers=other_account.headers()).json()["data"]
    assert mine["id"] not in {item["id"] for item in listed}
    # The same key in another account is that account's own send.
    theirs = _send(client, other_account, idempotency_key="shared-key")
    assert theirs.status_code == 202
    assert theirs.json()["data"]["id"] != mine["id"]
    assert "Idempotent-Replayed" not in theirs.headers
    # Profile ids of one account are unknown to the other.
    crossed = _send(client, other_account, profile={"id": mine["attributes"]["profile_id"]})
    assert crossed.status_code == 404


def _push_token(client: TestClient, keys: AccountKeys, profile_id: str, token: str) -> None:
    body = {
        "data": {
            "type": "push-token",
            "attributes": {
                "token": token,
                "platform": "android",
                "vendor": "fcm",
                "profile": {"data": {"type": "profile", "id": profile_id, "attributes": {}}},
            },
        }
    }
    assert client.post("/api/push-tokens", json=body, headers=keys.headers()).status_code == 202


def test_a_push_token_the_service_no_longer_knows_is_unregistered(
    client: TestClient, db: Database, account: AccountKeys, outbox_settings: Settings
) -> None:
    first = _send(
        client, account, channel="push", profile={"email": "phone@example.com"}, body="Hi", title="T"
    )
    profile_id = first.json()["data"]["attributes"]["profile_id"]
    _push_token(client, account, profile_id, "dead-token")
    provider = ScriptedProvider(RecipientRejected("fcm UNREGISTERED"))
    deliver_due(db, outbox_settings, providers_by_channel={Channel.PUSH: provider})
    row = _row(db, account.id, first.json()["data"]["id"])
    assert (row.status, row.recipient) == ("failed", "dead-token")
    assert provider.sent[0].content.startswith(b"{")
    assert "Bounced Push" in {name for name, _ in _events(db, account.id, profile_id)}
    # The token is no longer enabled: the next push is skipped for want of one.
    again = _send(client, account, channel="push", profile={"id": profile_id}, body="Hi again")
    deliver_due(db, outbox_settings, providers_by_channel={Channel.PUSH: ScriptedProvider()})
    skipped = _row(db, account.id, again.json()["data"]["id"])
    assert (skipped.status, skipped.reason) == ("skipped", "Missing Push Token")


def test_a_push_without_an_answer_is_delivery_unknown_and_never_resent(
    client: TestClient, db: Database, account: AccountKeys, outbox_settings: Settings
) -> None:
    answer = _send(client, account, channel="push", profile={"email": "quiet@example.com"}, body="Hi")
    _push_token(client, account, answer.json()["data"]["attributes"]["profile_id"], "quiet-token")
    provider = ScriptedProvider(AmbiguousSendError("fcm_no_answer", "read timeout"))
    deliver_due(db, outbox_settings, providers_by_channel={Channel.PUSH: provider})
    deliver_due(db, outbox_settings, providers_by_channel={Channel.PUSH: provider})
    row = _row(db, account.id, answer.json()["data"]["id"])
    assert (row.status, row.reason) == ("unknown", "Delivery Unknown")
    assert len(provider.sent) == 1


def test_a_sent_email_is_tracked_and_its_click_becomes_an_event(
    client: TestClient, db: Database, account: AccountKeys, outbox_settings: Settings
) -> None:
    from tidings.jobs.queue import enqueue
    from tidings.jobs.worker import drain

    answer = _send(
        client,
        account,
        profile={"email": "clicker@example.com"},
        html='<html><body><a href="https://shop.example.com/p/1">Item</a></body></html>',
    )
    deliver_due(db, outbox_settings)
    row = _row(db, account.id, answer.json()["data"]["id"])
    part = _eml(outbox_settings, row.id).get_body(("html",))
    assert part is not None
    html = part.get_content()
    assert "/t/o/" in html
    [link] = [chunk.split('"')[0] for chunk in html.split('href="')[1:] if "/t/c/" in chunk]
    path = link[link.index("/t/c/") :]
    redirect = client.get(
        path, follow_redirects=False, headers={"User-Agent": "Mozilla/5.0 (Macintosh) Firefox/120.0"}
    )
    assert redirect.status_code == 302
    assert redirect.headers["location"] == "https://shop.example.com/p/1"
    # The hit is committed before the answer; its event comes from a job a moment later (the
    # slot's job, or the sweep for a hit that arrived after its slot's job had run).
    deadline = time.monotonic() + 15
    clicks: list[dict[str, Any]] = []
    while not clicks and time.monotonic() < deadline:
        with db.write() as session:
            enqueue(session, "delivery.sweep_hits")
        drain(db)
        clicks = [p for n, p in _events(db, account.id, row.profile_id) if n == "Clicked Email"]
        if not clicks:
            time.sleep(0.3)
    assert len(clicks) == 1
    assert clicks[0]["URL"] == "https://shop.example.com/p/1"
    assert clicks[0]["Email Domain"] == "example.com"


def test_a_misconfigured_provider_leaves_its_messages_waiting(
    client: TestClient, db: Database, account: AccountKeys, outbox_settings: Settings
) -> None:
    broken = outbox_settings.model_copy(update={"sms_provider": "twilio", "twilio_account_sid": None})
    sms = _send(client, account, channel="sms", profile={"phone_number": "+16175550199"}, body="Hi")
    mail = _send(client, account, profile={"email": "still@example.com"})
    for _ in range(3):
        deliver_due(db, broken)
    waiting = _row(db, account.id, sms.json()["data"]["id"])
    assert (waiting.status, waiting.attempts) == ("planned", 0)
    assert _row(db, account.id, mail.json()["data"]["id"]).status == "sent"
