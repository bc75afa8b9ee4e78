"""The Twilio adapter against a local fake of Twilio's Messages API."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from tests.delivery.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, Failure, FakeTwilio
from tests.delivery.servers import free_port, serve
from tidings.config import Settings
from tidings.delivery import sms
from tidings.delivery.provider import (
    OutboundMessage,
    PermanentSendError,
    RecipientRejected,
    RetryableSendError,
)
from tidings.delivery.providers.common import AmbiguousSendError
from tidings.delivery.providers.twilio import TwilioProvider
from tidings.delivery.tables import Channel

FROM = "+15005550006"


@pytest.fixture
def twilio() -> Iterator[tuple[FakeTwilio, str]]:
    fake = FakeTwilio()
    with serve(fake.app()) as url:
        yield fake, url


def settings_for(url: str, **changes: object) -> Settings:
    values: dict[str, object] = {
        "twilio_api_url": url,
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_from": FROM,
        "public_url": "https://tidings.example.test",
    }
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


def sms_message(text: str = "Hi from the shop", to: str = "+14155550100", **extra: object) -> OutboundMessage:
    return OutboundMessage(
        account_id="AbC123",
        send_id="01JSEND000000000000000000",
        idempotency_key="k",
        channel=Channel.SMS,
        message_id="m",
        content=text.encode(),
        content_sha256="x",
        recipient=to,
        **extra,  # type: ignore[arg-type]
    )


def send(provider: TwilioProvider, message: OutboundMessage) -> str:
    async def go() -> str:
        try:
            return await provider.send(message)
        finally:
            await provider.close()

    return asyncio.run(go())


def test_a_message_is_posted_as_twilio_expects_and_its_sid_returned(twilio: tuple[FakeTwilio, str]) -> None:
    fake, url = twilio
    sid = send(
        TwilioProvider.from_settings(settings_for(url)),
        sms_message("Héllo ✓", media_url="https://cdn.example.test/a.png"),
    )
    assert sid.startswith("SM") and len(sid) == 34
    assert fake.taken == [
        {
            "To": "+14155550100",
            "Body": "Héllo ✓",
            "From": FROM,
            "MediaUrl": "https://cdn.example.test/a.png",
            "StatusCallback": "https://tidings.example.test/webhooks/sms/twilio/status",
        }
    ]


def test_a_messaging_service_sends_instead_of_a_number(twilio: tuple[FakeTwilio, str]) -> None:
    fake, url = twilio
    send(
        TwilioProvider.from_settings(settings_for(url, twilio_from="MG" + "1" * 32, public_url=None)),
        sms_message(),
    )
    assert fake.taken[0]["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in fake.taken[0] and "StatusCallback" not in fake.taken[0]


def test_missing_settings_are_named() -> None:
    with pytest.raises(ValueError, match="TIDINGS_TWILIO_AUTH_TOKEN"):
        TwilioProvider.from_settings(Settings(twilio_account_sid=ACCOUNT_SID, twilio_from=FROM))


def test_wrong_credentials_are_a_permanent_failure(twilio: tuple[FakeTwilio, str]) -> None:
    _fake, url = twilio
    with pytest.raises(PermanentSendError) as caught:
        send(TwilioProvider.from_settings(settings_for(url, twilio_auth_token="wrong")), sms_message())
    assert caught.value.reason == "twilio_20003" and not caught.value.retryable


@pytest.mark.parametrize("code", [21211, 21614])
def test_an_invalid_or_landline_number_rejects_the_recipient(
    twilio: tuple[FakeTwilio, str], code: int
) -> None:
    fake, url = twilio
    fake.fail.append(Failure(400, code, "The 'To' number is not a valid phone number."))
    with pytest.raises(RecipientRejected) as caught:
        send(TwilioProvider.from_settings(settings_for(url)), sms_message())
    assert caught.value.status == str(code) and not sms.unsubscribes(caught.value)


def test_an_unsubscribed_recipient_is_rejected_and_flagged_as_opted_out(
    twilio: tuple[FakeTwilio, str],
) -> None:
    fake, url = twilio
    fake.fail.append(Failure(400, 21610, "Attempt to send to unsubscribed recipient"))
    with pytest.raises(RecipientRejected) as caught:
        send(TwilioProvider.from_settings(settings_for(url)), sms_message())
    assert sms.unsubscribes(caught.value)


def test_another_refusal_is_permanent(twilio: tuple[FakeTwilio, str]) -> None:
    fake, url = twilio
    fake.fail.append(Failure(400, 21617, "The concatenated message body exceeds the 1600 character limit."))
    with pytest.raises(PermanentSendError) as caught:
        send(TwilioProvider.from_settings(settings_for(url)), sms_message())
    assert not isinstance(caught.value, RecipientRejected) and caught.value.reason == "twilio_21617"


@pytest.mark.parametrize(
    ("status", "headers", "wait"), [(429, {"Retry-After": "7"}, 7.0), (503, {}, None), (500, {}, None)]
)
def test_throttles_and_server_errors_are_retryable(
    twilio: tuple[FakeTwilio, str], status: int, headers: dict[str, str], wait: float | None
) -> None:
    fake, url = twilio
    fake.fail.append(Failure(status, 20429 if status == 429 else None, "Too Many Requests", headers))
    with pytest.raises(RetryableSendError) as caught:
        send(TwilioProvider.from_settings(settings_for(url)), sms_message())
    assert caught.value.retry_after == wait
    assert not fake.taken


def test_an_unreachable_api_is_retryable() -> None:
    with pytest.raises(RetryableSendError) as caught:
        send(TwilioProvider.from_settings(settings_for(f"http://127.0.0.1:{free_port()}")), sms_message())
    assert caught.value.reason == "twilio_unreachable"


def test_no_answer_after_the_request_went_out_is_ambiguous_never_retried() -> None:
    """Twilio takes no idempotency key: an SMS that may have gone out is not sent again."""

    async def hang(request):  # type: ignore[no-untyped-def]
        await asyncio.sleep(30)

    with serve(
        Starlette(routes=[Route("/2010-04-01/Accounts/{sid}/Messages.json", hang, methods=["POST"])])
    ) as url:
        provider = TwilioProvider.from_settings(settings_for(url))
        provider._client.timeout = httpx.Timeout(0.5)
        with pytest.raises(AmbiguousSendError) as caught:
            send(provider, sms_message())
    assert not caught.value.retryable and caught.value.ambiguous
