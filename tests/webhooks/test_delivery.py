"""Events written -> outbox -> signed, batched requests to a receiver on 127.0.0.1; failures,
retries, Retry-After, disabling, redirects, slow and huge answers, redelivery."""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import hmac
import json

from standardwebhooks.webhooks import Webhook as StandardWebhook

from tests.conftest import AccountKeys
from tests.events.factories import make_events
from tests.webhooks.helpers import SECRET, endpoint, make_webhook, outbox, send_all, send_round, time_passes
from tests.webhooks.receiver import Answer, Receiver
from tidings.webhooks import sender

ORDER = "event:api.placed_order"


def _deliveries(client, account: AccountKeys, webhook_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    response = client.get(
        f"/api/x-tidings/webhooks/{webhook_id}/deliveries?page[size]=100", headers=account.headers()
    )
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def _status(client, account: AccountKeys, webhook_id: str) -> dict:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/x-tidings/webhooks/{webhook_id}/status", headers=account.headers())
    assert response.status_code == 200, response.text
    return dict(response.json()["data"]["attributes"])


def _orders(db, account: AccountKeys, count: int, metric: str = "Placed Order") -> list[str]:  # type: ignore[no-untyped-def]
    return make_events(db, account.id, [{"metric": metric, "properties": {"n": n}} for n in range(count)])


def test_events_reach_the_receiver_batched_and_signed_both_ways(
    client, db, settings, account: AccountKeys, receiver: Receiver
) -> None:
    _orders(db, account, 1)  # the metric exists: its topic can be subscribed to
    webhook_id = make_webhook(client, account, f"{receiver.url}/a", [ORDER])
    written = _orders(db, account, 250)
    _orders(db, account, 5, metric="Viewed Product")  # not subscribed
    send_all(db, settings, account.id)

    got = receiver.at("/a")
    assert [len(json.loads(r.body)["data"]) for r in got] == [100, 100, 50]
    items = [item for r in got for item in json.loads(r.body)["data"]]
    assert [i["external_id"] for i in items] == sorted(written)  # oldest first, each once
    assert {i["topic"] for i in items} == {ORDER}
    first = items[0]["payload"]["data"]
    assert first["type"] == "event" and first["attributes"]["event_properties"]["n"] in range(250)

    request = got[0]
    body, headers = request.body, {k.lower(): v for k, v in request.headers.items()}
    meta = json.loads(body)["meta"]
    assert meta["klaviyo_webhook_id"] == webhook_id and meta["klaviyo_account_id"] == account.id
    # Klaviyo's signature: hex HMAC-SHA256 of the raw body followed by the timestamp.
    timestamp = headers["klaviyo-timestamp"]
    expected = hmac.new(SECRET.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()
    assert headers["klaviyo-signature"] == expected
    assert headers["klaviyo-webhook-id"] == webhook_id
    assert abs(email.utils.parsedate_to_datetime(timestamp) - dt.datetime.now(dt.UTC)) < dt.timedelta(
        minutes=1
    )
    # Standard Webhooks: the receiver's library verifies it with the secret as whsec_ + base64.
    verifier = StandardWebhook("whsec_" + base64.b64encode(SECRET.encode()).decode())
    assert verifier.verify(body, headers)["meta"]["klaviyo_webhook_id"] == webhook_id

    deliveries = _deliveries(client, account, webhook_id)
    assert sorted(d["id"] for d in deliveries) == sorted(
        {k.lower(): v for k, v in r.headers.items()}["webhook-id"] for r in got
    )
    for delivery in deliveries:
        attributes = delivery["attributes"]
        assert attributes["status"] == "delivered" and attributes["attempts"] == 1
        assert attributes["attempt_log"][0]["status_code"] == 200
        assert attributes["attempt_log"][0]["succeeded"] is True
    assert outbox(db, account.id) == []


def test_at_most_one_outbox_row_per_endpoint_and_event(
    client, db, account: AccountKeys, receiver: Receiver
) -> None:
    _orders(db, account, 1)
    a = make_webhook(client, account, f"{receiver.url}/a", [ORDER])
    b = make_webhook(client, account, f"{receiver.url}/b", [ORDER, "event:klaviyo.received_email"])
    item = {"metric": "Placed Order", "unique_id": "order-1", "profile_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ"}
    (event_id,) = make_events(db, account.id, [item])
    assert make_events(db, account.id, [item]) == []  # the same event again is not written again
    assert outbox(db, account.id) == sorted([(a, event_id), (b, event_id)])
    with db.write() as session:  # fanned out into one row per endpoint, still once each
        assert sender.fan_out(session, account.id) == 1
        assert sender.fan_out(session, account.id) == 0
    assert outbox(db, account.id) == sorted([(a, event_id), (b, event_id)])


def test_a_failure_waits_the_schedule_and_the_retry_sends_the_same_bytes(
    client, db, settings, account: AccountKeys, receiver: Receiver
) -> None:
    _orders(db, account, 1)
    webhook_id = make_webhook(client, account, f"{receiver.url}/flaky", [ORDER])
    receiver.answer("/flaky", Answer(status=503, body=b"busy"), Answer(status=200))
    _orders(db, account, 3)
    before = dt.datetime.now(dt.UTC)
    assert send_round(db, settings, account.id) == 1
    state = endpoint(db, account.id, webhook_id)
    assert state.failures == 1 and state.enabled
    assert state.retry_at is not None
    wait = (state.retry_at - before).total_seconds()
    assert 5 <= wait <= 5.5 + 1  # 5 s, and up to 10% jitter
    assert send_round(db, settings, account.id) == 0  # still waiting
    (delivery,) = _deliveries(client, account, webhook_id)
    log = delivery["attributes"]["attempt_log"]
    assert log[0]["status_code"] == 503 and log[0]["response_body"] == "busy" and log[0]["next_attempt_at"]

    time_passes(db, account.id, webhook_id)
    assert send_round(db, settings, account.id) == 1
    first, second = receiver.at("/flaky")
    assert first.body == second.body
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery["id"]
    (delivery,) = _deliveries(client, account, webhook_id)
    assert delivery["attributes"]["status"] == "delivered" and delivery["attributes"]["attempts"] == 2
    assert endpoint(db, account.id, webhook_id).failures == 0


def test_retry_after_is_honoured(client, db, settings, account: AccountKeys, receiver: Receiver) -> None:
    _orders(db, account, 1)
    webhook_id = make_webhook(client, account, f"{receiver.url}/slowdown", [ORDER])
    receiver.answer("/slowdown", Answer(status=429, headers={"Retry-After": "120"}))
    _orders(db, account, 1)
    before = dt.datetime.now(dt.UTC)
    send_round(db, settings, account.id)
    retry_at = endpoint(db, account.id, webhook_id).retry_at
    assert retry_at is not None and (retry_at - before).total_seconds() >= 120


def test_410_disables_the_endpoint_visibly(
    client, db, settings, account: AccountKeys, receiver: Receiver
) -> None:
    _orders(db, account, 1)
    webhook_id = make_webhook(client, account, f"{receiver.url}/gone", [ORDER])
    receiver.answer("/gone", Answer(status=410))
    _orders(db, account, 2)
    send_round(db, settings, account.id)
    status = _status(client, account, webhook_id)
    assert status["enabled"] is False and "410" in status["disabled_reason"]
    got = client.get(f"/api/webhooks/{webhook_id}", headers=account.headers()).json()
    assert got["data"]["attributes"]["enabled"] is False
    _orders(db, account, 2)  # a disabled endpoint gets no new events
    assert len(outbox(db, account.id)) == 0


def test_a_receiver_down_for_a_day_disables_the_endpoint_then_enabling_it_delivers(
    client, db, settings, account: AccountKeys, receiver: Receiver
) -> None:
    _orders(db, account, 1)
    webhook_id = make_webhook(client, account, f"{receiver.url}/down", [ORDER])
    receiver.answer("/down", Answer(status=500))
    _orders(db, account, 2)
    for attempt in range(8):
        assert send_round(db, settings, account.id) == 1, attempt
        time_passes(db, account.id, webhook_id)
    status = _status(client, account, webhook_id)
    assert status["enabled"] is False
    assert "8 failed attempts in a row" in status["disabled_reason"]
    assert status["pending_events"] == 2
    assert send_round(db, settings, account.id) == 0  # nothing more goes to a disabled endpoint

    receiver.answer("/down", Answer(status=204))
    patch = {"data": {"type": "webhook", "id": webhook_id, "attributes": {"enabled": True}}}
    assert (
        client.patch(f"/api/webhooks/{webhook_id}", json=patch, headers=account.headers()).status_code == 200
    )
    assert send_round(db, settings, account.id) == 1
    assert _status(client, account, webhook_id)["pending_events"] == 0
    (delivery,) = _deliveries(client, account, webhook_id)
    assert delivery["attributes"]["attempts"] == 9 and delivery["attributes"]["status"] == "delivered"


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(
    client, db, settings, account: AccountKeys, receiver: Receiver
) -> None:
    _orders(db, account, 1)
    webhook_id = make_webhook(client, account, f"{receiver.url}/moved", [ORDER])
    receiver.answer("/moved", Answer(status=302, headers={"Location": f"{receiver.url}/elsewhere"}))
    _orders(db, account, 1)
    send_round(db, settings, account.id)
    assert receiver.at("/elsewhere") == []
    (delivery,) = _deliveries(client, account, webhook_id)
    assert delivery["attributes"]["status"] == "pending"
    assert "redirects are not followed (302" in delivery["attributes"]["last_error"]


def test_slow_and_huge_answers_are_failed_attempts(
    client, db, settings, account: AccountKeys, receiver: Receiver
) -> None:
    quick = settings.model_copy(update={"webhook_timeout_seconds": 0.5, "webhook_max_response_bytes": 1024})
    _orders(db, account, 1)
    slow = make_webhook(client, account, f"{receiver.url}/slow", [ORDER])
    huge = make_webhook(client, account, f"{receiver.url}/huge", [ORDER])
    trickle = make_webhook(client, account, f"{receiver.url}/trickle", [ORDER])
    receiver.answer("/slow", Answer(delay=3))
    receiver.answer("/huge", Answer(body=b"x" * 200_000))
    receiver.answer("/trickle", Answer(body=b"y" * 100, delay=0.1, trickle=True))
    _orders(db, account, 1)
    send_round(db, quick, account.id)
    errors = {
        name: _deliveries(client, account, webhook_id)[0]["attributes"]["last_error"]
        for name, webhook_id in (("slow", slow), ("huge", huge), ("trickle", trickle))
    }
    assert errors["slow"] == "it took longer than 0.5 seconds"
    assert errors["trickle"] == "it took longer than 0.5 seconds"
    assert errors["huge"] == "the response is larger than 1024 bytes"


def test_redelivery_on_request(client, db, settings, account: AccountKeys, receiver: Receiver) -> None:
    _orders(db, account, 1)
    webhook_id = make_webhook(client, account, f"{receiver.url}/again", [ORDER])
    _orders(db, account, 1)
    send_round(db, settings, account.id)
    (delivery,) = _deliveries(client, account, webhook_id)
    response = client.post(
        f"/api/x-tidings/webhook-deliveries/{delivery['id']}/redeliver", headers=account.headers()
    )
    assert response.status_code == 202, response.text
    assert response.json()["data"]["attributes"]["status"] == "pending"
    send_round(db, settings, account.id)
    first, second = receiver.at("/again")
    assert first.body == second.body and second.headers["webhook-id"] == delivery["id"]
    one = client.get(f"/api/x-tidings/webhook-deliveries/{delivery['id']}", headers=account.headers()).json()
    assert [a["status_code"] for a in one["data"]["attributes"]["attempt_log"]] == [200, 200]
    missing = client.post(
        "/api/x-tidings/webhook-deliveries/01HZZZZZZZZZZZZZZZZZZZZZZZ/redeliver", headers=account.headers()
    )
    assert missing.status_code == 404


def test_an_endpoint_that_now_resolves_to_a_private_address_is_not_called(
    client, db, settings, account: AccountKeys, receiver: Receiver
) -> None:
    """Checked again at every request: created while private addresses were allowed, sent
    after they no longer are."""
    _orders(db, account, 1)
    webhook_id = make_webhook(client, account, f"{receiver.url}/private", [ORDER])
    _orders(db, account, 1)
    send_round(db, settings.model_copy(update={"allow_private_urls": False}), account.id)
    assert receiver.at("/private") == []
    (delivery,) = _deliveries(client, account, webhook_id)
    assert (
        "loopback" in delivery["attributes"]["last_error"] or "https" in delivery["attributes"]["last_error"]
    )
