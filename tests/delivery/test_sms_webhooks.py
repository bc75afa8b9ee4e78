"""Twilio's webhooks: the signature, status callbacks, and STOP / START / HELP texts.

The app under test has Twilio configured (its own app on the shared database); what changed
is read back through Klaviyo's API with the official SDK, as a user would see it.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from base64 import b64encode
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from klaviyo_api import KlaviyoAPI

from tests.conftest import make_account
from tests.delivery.fake_twilio import AUTH_TOKEN, sign
from tests.delivery.sms_helpers import PUBLIC, events, phone, sms_consent
from tests.profiles.factories import make_profile, subscribe
from tidings.app import create_app
from tidings.config import Settings
from tidings.consent.tables import Subscription
from tidings.db.ids import ulid
from tidings.db.session import Database
from tidings.delivery import sms
from tidings.delivery.tables import Channel, MessageSend, SendStatus, SourceKind

STATUS = "/webhooks/sms/twilio/status"
INBOUND = "/webhooks/sms/twilio/inbound"
OUR_NUMBER = "+15005550006"


@pytest.fixture(scope="module")
def twilio_app(settings: Settings, db: Database) -> Iterator[TestClient]:
    configured = settings.model_copy(update={"twilio_auth_token": AUTH_TOKEN, "public_url": PUBLIC})
    with TestClient(create_app(configured, db=db, workers=0), raise_server_exceptions=False) as client:
        yield client


def post(client: TestClient, path: str, form: dict[str, str], *, signature: str | None = "sign") -> Any:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature == "sign":
        signature = sign(AUTH_TOKEN, PUBLIC + path, form)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return client.post(path, content=urlencode(form), headers=headers)


def sent_sms(
    db: Database, account_id: str, profile_id: str, number: str, *, recorded: bool = True, **context: Any
) -> str:
    """A ledger row Twilio took: its SID, as the status callback names it (not yet on the row
    unless `recorded`: the worker has not written Twilio's answer yet)."""
    sid = "SM" + ulid().lower() + "abcdef"
    with db.write() as session:
        session.add(
            MessageSend(
                account_id=account_id,
                id=ulid(),
                idempotency_key=f"api:{ulid()}",
                channel=Channel.SMS,
                profile_id=profile_id,
                source_kind=SourceKind.API,
                recipient=number,
                context=context or {"$message": "01JMESSAGE", "Campaign Name": "Spring sale"},
                status=SendStatus.SENT if recorded else SendStatus.SENDING,
                message_id=ulid(),
                provider_ref=sid if recorded else None,
            )
        )
    return sid


# ------------------------------------------------------------------ the signature


def test_the_verifier_matches_twilios_published_examples() -> None:
    """Twilio's documentation signs this request with auth token 12345."""
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    assert sms.twilio_signature("12345", url, params.items()) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    newer = {**params, "Caller": "+14158675309", "From": "+14158675309"}
    assert sms.signature_valid("12345", url, newer.items(), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_the_verifier_agrees_with_an_independent_implementation() -> None:
    rng = random.Random(7)
    for _ in range(50):
        form = {
            f"K{rng.randint(0, 99)}": "".join(rng.choice("ab +é&=") for _ in range(rng.randint(0, 8)))
            for _ in range(6)
        }
        url = f"{PUBLIC}/webhooks/sms/twilio/status?x={rng.randint(0, 9)}"
        data = url + "".join(k + form[k] for k in sorted(form))
        expected = b64encode(hmac.new(b"tok", data.encode(), hashlib.sha1).digest()).decode()
        assert sms.twilio_signature("tok", url, form.items()) == expected == sign("tok", url, form)


@pytest.mark.parametrize("path", [STATUS, INBOUND])
def test_unsigned_and_forged_requests_are_refused(twilio_app: TestClient, db: Database, path: str) -> None:
    account = make_account(db)
    number = phone()
    profile_id = make_profile(db, account.id, phone_number=number)
    subscribe(db, account.id, profile_id, channel="sms")
    sid = sent_sms(db, account.id, profile_id, number)
    form = {"MessageSid": sid, "MessageStatus": "delivered", "From": number, "To": OUR_NUMBER, "Body": "STOP"}
    for signature in (
        None,
        "",
        sign("another-token", PUBLIC + path, form),
        sign(AUTH_TOKEN, PUBLIC + "/elsewhere", form),
    ):
        response = post(twilio_app, path, form, signature=signature)
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "permission_denied"
    tampered = sign(AUTH_TOKEN, PUBLIC + path, form)
    assert post(twilio_app, path, {**form, "Body": "START"}, signature=tampered).status_code == 403
    with db.read() as session:
        row = session.get(Subscription, (account.id, profile_id, "sms", "marketing"))
        assert row is not None and row.consent == "SUBSCRIBED"


def test_without_an_auth_token_every_request_is_refused(client: TestClient) -> None:
    form = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    assert post(client, STATUS, form).status_code == 403  # the shared app has no Twilio configured


# ------------------------------------------------------------------ status callbacks


def test_delivered_records_received_sms_with_the_message_properties(
    twilio_app: TestClient, db: Database, account: Any, sdk: KlaviyoAPI
) -> None:
    number = phone()
    profile_id = make_profile(db, account.id, phone_number=number)
    sid = sent_sms(
        db,
        account.id,
        profile_id,
        number,
        **{"$message": "01JMSG", "$flow": "01JFLOW", "$variation": "01JACTION"},
    )
    form = {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": "delivered",
        "AccountSid": "AC1",
        "From": OUR_NUMBER,
        "To": number,
        "ApiVersion": "2010-04-01",
    }
    assert post(twilio_app, STATUS, form).status_code == 204
    assert post(twilio_app, STATUS, form).status_code == 204  # Twilio retries: recorded once
    [(name, properties)] = events(sdk, profile_id)
    assert name == "Received SMS"
    assert (
        properties["$message"] == "01JMSG"
        and properties["$flow"] == "01JFLOW"
        and properties["To Number"] == number
    )


@pytest.mark.parametrize("status", ["undelivered", "failed"])
def test_undelivered_records_failed_to_deliver_sms_with_the_error_code(
    twilio_app: TestClient, db: Database, account: Any, sdk: KlaviyoAPI, status: str
) -> None:
    number = phone()
    profile_id = make_profile(db, account.id, phone_number=number)
    sid = sent_sms(db, account.id, profile_id, number)
    form = {
        "MessageSid": sid,
        "MessageStatus": status,
        "ErrorCode": "30003",
        "From": OUR_NUMBER,
        "To": number,
    }
    assert post(twilio_app, STATUS, form).status_code == 204
    [(name, properties)] = events(sdk, profile_id)
    assert name == "Failed to Deliver SMS"
    assert properties["Error Code"] == "30003" and properties["Campaign Name"] == "Spring sale"


def test_a_callback_that_outruns_the_worker_finds_the_send_in_flight(
    twilio_app: TestClient, db: Database, account: Any, sdk: KlaviyoAPI
) -> None:
    number = phone()
    profile_id = make_profile(db, account.id, phone_number=number)
    sid = sent_sms(db, account.id, profile_id, number, recorded=False)
    form = {"MessageSid": sid, "MessageStatus": "delivered", "From": OUR_NUMBER, "To": number}
    assert post(twilio_app, STATUS, form).status_code == 204
    assert [name for name, _ in events(sdk, profile_id)] == ["Received SMS"]


def test_other_statuses_and_unknown_messages_change_nothing(
    twilio_app: TestClient, db: Database, account: Any, sdk: KlaviyoAPI
) -> None:
    number = phone()
    profile_id = make_profile(db, account.id, phone_number=number)
    sid = sent_sms(db, account.id, profile_id, number)
    for form in (
        {"MessageSid": sid, "MessageStatus": "sent"},
        {"MessageSid": "SMunknown", "MessageStatus": "delivered"},
        {},
    ):
        assert post(twilio_app, STATUS, form).status_code == 204
    assert events(sdk, profile_id) == []


def test_a_failure_for_an_opted_out_recipient_unsubscribes_them(
    twilio_app: TestClient, db: Database, account: Any, sdk: KlaviyoAPI
) -> None:
    number = phone()
    profile_id = make_profile(db, account.id, phone_number=number)
    subscribe(db, account.id, profile_id, channel="sms")
    sid = sent_sms(db, account.id, profile_id, number)
    post(twilio_app, STATUS, {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "21610"})
    consent = sms_consent(sdk, profile_id)
    assert consent.consent == "UNSUBSCRIBED" and consent.can_receive_sms_marketing is False
    assert {name for name, _ in events(sdk, profile_id)} == {
        "Failed to Deliver SMS",
        "Unsubscribed from SMS Marketing",
    }


def test_a_callback_for_one_accounts_message_never_touches_another(
    twilio_app: TestClient, db: Database, account: Any, other_account: Any, sdk: KlaviyoAPI, server: Any
) -> None:
    number = phone()  # the same person is a profile in both accounts
    mine = make_profile(db, account.id, phone_number=number)
    theirs = make_profile(db, other_account.id, phone_number=number)
    subscribe(db, other_account.id, theirs, channel="sms")
    sid = sent_sms(db, account.id, mine, number)
    post(twilio_app, STATUS, {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "21610"})
    other_sdk = KlaviyoAPI(api_key=other_account.private_key, test_host=server.url, max_retries=0)
    assert events(other_sdk, theirs) == []
    assert sms_consent(other_sdk, theirs).consent == "SUBSCRIBED"
    assert {name for name, _ in events(sdk, mine)} == {
        "Failed to Deliver SMS",
        "Unsubscribed from SMS Marketing",
    }


# ------------------------------------------------------------------ inbound texts


def inbound(client: TestClient, number: str, body: str) -> Any:
    form = {
        "MessageSid": "SM" + ulid().lower(),
        "From": number,
        "To": OUR_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }
    response = post(client, INBOUND, form)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    return response


@pytest.mark.parametrize(
    "keyword", ["STOP", " stop ", "Unsubscribe", "END", "QUIT", "STOPALL", "REVOKE", "OPTOUT", "CANCEL"]
)
def test_stop_keywords_unsubscribe_from_sms_marketing(
    twilio_app: TestClient, db: Database, account: Any, sdk: KlaviyoAPI, keyword: str
) -> None:
    number = phone()
    profile_id = make_profile(db, account.id, phone_number=number)
    subscribe(db, account.id, profile_id, channel="sms")
    sent_sms(db, account.id, profile_id, number)
    response = inbound(twilio_app, number, keyword)
    assert "<Message>" not in response.text  # Twilio's opt-out handling answers the carrier's way
    consent = sms_consent(sdk, profile_id)
    assert (consent.consent, consent.method, consent.method_detail) == (
        "UNSUBSCRIBED",
        "TEXT",
        keyword.strip().upper(),
    )
    assert [name for name, _ in events(sdk, profile_id)] == ["Unsubscribed from SMS Marketing"]
    inbound(twilio_app, number, "STOP")  # again: nothing more
    assert len(events(sdk, profile_id)) == 1


def test_start_subscribes_again_only_after_an_opt_out(
    twilio_app: TestClient, db: Database, account: Any, sdk: KlaviyoAPI
) -> None:
    number = phone()
    profile_id = make_profile(db, account.id, phone_number=number)
    sent_sms(db, account.id, profile_id, number)
    inbound(twilio_app, number, "START")
    assert sms_consent(sdk, profile_id).consent == "NEVER_SUBSCRIBED"  # a carrier keyword is not consent
    subscribe(db, account.id, profile_id, channel="sms")
    inbound(twilio_app, number, "STOP")
    inbound(twilio_app, number, "unstop")
    consent = sms_consent(sdk, profile_id)
    assert (consent.consent, consent.method_detail, consent.can_receive_sms_marketing) == (
        "SUBSCRIBED",
        "UNSTOP",
        True,
    )
    assert sorted(name for name, _ in events(sdk, profile_id)) == [
        "Subscribed to SMS Marketing",
        "Unsubscribed from SMS Marketing",
    ]


def test_help_is_answered_with_the_help_text(twilio_app: TestClient, db: Database, sdk: KlaviyoAPI) -> None:
    account = make_account(db, name="Ada & Co")
    number = phone()
    profile_id = make_profile(db, account.id, phone_number=number)
    sent_sms(db, account.id, profile_id, number)
    response = inbound(twilio_app, number, "help")
    assert response.text == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Ada &amp; Co: reply STOP to unsubscribe, '
        "START to resubscribe. Msg &amp; data rates may apply.</Message></Response>"
    )


def test_any_other_text_is_a_reply_event_in_the_account_that_texted_last(
    twilio_app: TestClient, db: Database, account: Any, other_account: Any, sdk: KlaviyoAPI, server: Any
) -> None:
    number = phone()
    old = make_profile(db, other_account.id, phone_number=number)
    sent_sms(db, other_account.id, old, number)
    mine = make_profile(db, account.id, phone_number=number)
    sent_sms(db, account.id, mine, number, **{"$message": "01JLAST"})
    inbound(twilio_app, number, "Do you ship to Canada?")
    [(name, properties)] = events(sdk, mine)
    assert name == "Replied to SMS"
    assert properties["Message Body"] == "Do you ship to Canada?" and properties["$message"] == "01JLAST"
    other_sdk = KlaviyoAPI(api_key=other_account.private_key, test_host=server.url, max_retries=0)
    assert events(other_sdk, old) == []


def test_a_text_from_a_number_never_texted_is_ignored_but_help_is_answered(twilio_app: TestClient) -> None:
    assert inbound(twilio_app, phone(), "STOP").text.endswith("<Response></Response>")
    assert "<Message>reply STOP to unsubscribe" in inbound(twilio_app, phone(), "HELP").text


def test_a_custom_keyword_counts_as_twilio_classes_it(
    twilio_app: TestClient, db: Database, account: Any, sdk: KlaviyoAPI
) -> None:
    number = phone()
    profile_id = make_profile(db, account.id, phone_number=number)
    subscribe(db, account.id, profile_id, channel="sms")
    sent_sms(db, account.id, profile_id, number)
    form = {
        "MessageSid": "SM" + ulid().lower(),
        "From": number,
        "To": OUR_NUMBER,
        "Body": "Arret",
        "OptOutType": "STOP",
    }
    assert post(twilio_app, INBOUND, form).status_code == 200
    consent = sms_consent(sdk, profile_id)
    assert (consent.consent, consent.method_detail) == ("UNSUBSCRIBED", "ARRET")
