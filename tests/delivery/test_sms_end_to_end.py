"""An SMS from the transactional endpoint through the delivery worker to the Twilio fake, then
Twilio's status callback and the recipient's STOP, each seen through Klaviyo's API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from klaviyo_api import KlaviyoAPI

from tests.conftest import AccountKeys
from tests.delivery.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, Failure, FakeTwilio, sign
from tests.delivery.servers import serve
from tests.delivery.sms_helpers import PUBLIC, events, phone, sms_consent
from tests.profiles.factories import subscribe
from tidings.app import create_app
from tidings.config import Settings
from tidings.db.session import Database
from tidings.delivery.providers.twilio import TwilioProvider
from tidings.delivery.tables import Channel, MessageSend
from tidings.delivery.worker import deliver_due

SENDS = "/api/x-tidings/message-sends"


@pytest.fixture
def twilio(settings: Settings, db: Database) -> Iterator[tuple[FakeTwilio, Settings, TestClient]]:
    fake = FakeTwilio()
    with serve(fake.app()) as url:
        configured = settings.model_copy(
            update={
                "sms_provider": "twilio",
                "twilio_api_url": url,
                "twilio_account_sid": ACCOUNT_SID,
                "twilio_auth_token": AUTH_TOKEN,
                "twilio_from": "+15005550006",
                "public_url": PUBLIC,
            }
        )
        with TestClient(create_app(configured, db=db, workers=0), raise_server_exceptions=False) as client:
            yield fake, configured, client


def send_sms(client: TestClient, keys: AccountKeys, number: str, body: str) -> str:
    answer = client.post(
        SENDS,
        json={
            "data": {
                "type": "message-send",
                "attributes": {
                    "idempotency_key": f"sms-{time.monotonic_ns()}",
                    "channel": "sms",
                    "profile": {"phone_number": number},
                    "body": body,
                },
            }
        },
        headers=keys.headers(),
    )
    assert answer.status_code == 202, answer.text
    return str(answer.json()["data"]["id"])


def twilio_posts(client: TestClient, path: str, form: dict[str, str]) -> Any:
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": sign(AUTH_TOKEN, PUBLIC + path, form),
    }
    return client.post(path, content=urlencode(form), headers=headers)


def profile_of(sdk: KlaviyoAPI, number: str) -> str:
    [profile] = sdk.Profiles.get_profiles(filter=f'equals(phone_number,"{number}")').data
    return str(profile.id)


def test_an_sms_goes_out_through_twilio_is_delivered_and_the_recipient_opts_out(
    twilio: tuple[FakeTwilio, Settings, TestClient], db: Database, account: AccountKeys, sdk: KlaviyoAPI
) -> None:
    fake, settings, client = twilio
    number = phone()
    sdk.Profiles.create_profile({"data": {"type": "profile", "attributes": {"phone_number": number}}})
    profile_id = profile_of(sdk, number)
    subscribe(db, account.id, profile_id, channel="sms", purpose="marketing")
    subscribe(db, account.id, profile_id, channel="sms", purpose="transactional")
    send_id = send_sms(client, account, number, "Your code is 1234")
    deliver_due(db, settings, providers_by_channel={Channel.SMS: TwilioProvider.from_settings(settings)})
    [taken] = fake.taken
    assert (taken["To"], taken["Body"]) == (number, "Your code is 1234")
    assert taken["StatusCallback"] == f"{PUBLIC}/webhooks/sms/twilio/status"
    with db.read() as session:
        row = session.get(MessageSend, (account.id, send_id))
        assert row is not None and row.status == "sent"
        sid = row.provider_ref
    assert sid and sid.startswith("SM")
    callback = {"MessageSid": sid, "MessageStatus": "delivered", "From": "+15005550006", "To": number}
    assert twilio_posts(client, "/webhooks/sms/twilio/status", callback).status_code == 204
    assert sorted(name for name, _ in events(sdk, profile_id)) == ["Received SMS", "Sent SMS"]
    stop = {"MessageSid": "SMinbound1", "From": number, "To": "+15005550006", "Body": "Stop"}
    assert twilio_posts(client, "/webhooks/sms/twilio/inbound", stop).status_code == 200
    assert sms_consent(sdk, profile_id).consent == "UNSUBSCRIBED"


def test_a_number_twilio_refuses_fails_the_send_and_is_not_retried(
    twilio: tuple[FakeTwilio, Settings, TestClient], db: Database, account: AccountKeys, sdk: KlaviyoAPI
) -> None:
    fake, settings, client = twilio
    number = phone()
    sdk.Profiles.create_profile({"data": {"type": "profile", "attributes": {"phone_number": number}}})
    profile_id = profile_of(sdk, number)
    subscribe(db, account.id, profile_id, channel="sms", purpose="transactional")
    send_id = send_sms(client, account, number, "Hello")
    fake.fail.append(Failure(400, 21614, "'To' number is not a valid mobile number"))
    deliver_due(db, settings, providers_by_channel={Channel.SMS: TwilioProvider.from_settings(settings)})
    with db.read() as session:
        row = session.get(MessageSend, (account.id, send_id))
        assert row is not None and (row.status, row.reason) == ("failed", "twilio_21614")
    assert [name for name, _ in events(sdk, profile_id)] == ["Failed to Deliver SMS"]
    assert fake.taken == []
