"""The APNs adapter against a local HTTP/2 fake that checks the ES256 provider token."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.delivery.fake_apns import KEY_ID, TEAM_ID, TOPIC, Failure, FakeApns, ec_key
from tests.delivery.servers import serve_h2c
from tidings.config import Settings
from tidings.delivery.messages import PushPayload
from tidings.delivery.provider import (
    OutboundMessage,
    PermanentSendError,
    RecipientRejected,
    RetryableSendError,
)
from tidings.delivery.providers.apns import ApnsProvider
from tidings.delivery.tables import Channel

DEVICE = "a" * 64


@pytest.fixture
def apns(tmp_path: Path) -> Iterator[tuple[FakeApns, Settings]]:
    pem, public = ec_key()
    key = tmp_path / "AuthKey.p8"
    key.write_text(pem)
    fake = FakeApns(public)
    with serve_h2c(fake.app()) as url:
        yield (
            fake,
            Settings(
                apns_api_url=url,
                apns_key_file=str(key),
                apns_key_id=KEY_ID,
                apns_team_id=TEAM_ID,
                apns_topic=TOPIC,
            ),
        )


def push_message(
    token: str = DEVICE, send_id: str = "01JSEND000000000000000002", **payload: object
) -> OutboundMessage:
    content = PushPayload(**{"title": "Back in stock", "body": "Your shoes are back", **payload})  # type: ignore[arg-type]
    return OutboundMessage(
        account_id="AbC123",
        send_id=send_id,
        idempotency_key="k",
        channel=Channel.PUSH,
        message_id="m",
        content=content.model_dump_json().encode(),
        content_sha256="x",
        recipient=token,
        sender="ios",
    )


def run(provider: ApnsProvider, *messages: OutboundMessage) -> list[str | BaseException]:
    async def go() -> list[str | BaseException]:
        try:
            return list(await asyncio.gather(*(provider.send(m) for m in messages), return_exceptions=True))
        finally:
            await provider.close()

    return asyncio.run(go())


def test_a_notification_goes_over_http2_with_apples_headers(apns: tuple[FakeApns, Settings]) -> None:
    fake, settings = apns
    messages = [push_message(data={"url": "https://shop.example.test/p/1"}, sound="default", badge=2)]
    messages += [push_message("b" * 64, send_id=f"01JSEND00000000000000000{i}") for i in range(3, 6)]
    results = run(ApnsProvider.from_settings(settings), *messages)
    assert all(isinstance(r, str) and len(r) == 36 for r in results), results
    assert len(fake.provider_tokens) == 1  # one ES256 token, reused
    first = next(t for t in fake.taken if t["device"] == DEVICE)
    assert first["headers"]["apns-topic"] == TOPIC
    assert first["headers"]["apns-push-type"] == "alert"
    assert first["headers"]["apns-priority"] == "10"
    assert first["headers"]["apns-collapse-id"] == "01JSEND000000000000000002"
    assert first["payload"] == {
        "url": "https://shop.example.test/p/1",
        "aps": {
            "alert": {"title": "Back in stock", "body": "Your shoes are back"},
            "sound": "default",
            "badge": 2,
        },
    }


@pytest.mark.parametrize(("token", "status"), [("c" * 64, "410"), ("not-a-device-token", "400")])
def test_an_unregistered_or_bad_token_rejects_the_recipient(
    apns: tuple[FakeApns, Settings], token: str, status: str
) -> None:
    fake, settings = apns
    fake.unregistered.add("c" * 64)
    [result] = run(ApnsProvider.from_settings(settings), push_message(token))
    assert isinstance(result, RecipientRejected) and result.status == status


@pytest.mark.parametrize(
    ("status", "reason", "headers", "wait"),
    [
        (429, "TooManyRequests", {"retry-after": "3"}, 3.0),
        (503, "ServiceUnavailable", {}, None),
        (500, "InternalServerError", {}, None),
    ],
)
def test_throttles_and_server_errors_are_retryable(
    apns: tuple[FakeApns, Settings], status: int, reason: str, headers: dict[str, str], wait: float | None
) -> None:
    fake, settings = apns
    fake.fail.append(Failure(status, reason, headers))
    [result] = run(ApnsProvider.from_settings(settings), push_message())
    assert isinstance(result, RetryableSendError) and result.retry_after == wait and result.detail == reason


def test_a_token_signed_with_another_key_is_refused_and_renewed(
    apns: tuple[FakeApns, Settings], tmp_path: Path
) -> None:
    fake, settings = apns
    other = tmp_path / "Other.p8"
    other.write_text(ec_key()[0])
    provider = ApnsProvider.from_settings(settings.model_copy(update={"apns_key_file": str(other)}))
    [result] = run(provider, push_message())
    assert isinstance(result, RetryableSendError) and result.reason == "apns_InvalidProviderToken"
    assert provider._token is None and not fake.taken


def test_another_refusal_is_permanent(apns: tuple[FakeApns, Settings]) -> None:
    fake, settings = apns
    fake.fail.append(Failure(413, "PayloadTooLarge"))
    [result] = run(ApnsProvider.from_settings(settings), push_message())
    assert isinstance(result, PermanentSendError) and not isinstance(result, RecipientRejected)


def test_an_android_token_is_not_sent_to_apple(apns: tuple[FakeApns, Settings]) -> None:
    _fake, settings = apns
    message = push_message()
    android = OutboundMessage(**{**message.__dict__, "sender": "android"})
    [result] = run(ApnsProvider.from_settings(settings), android)
    assert isinstance(result, PermanentSendError) and result.reason == "apns_platform"


def test_missing_settings_are_named() -> None:
    with pytest.raises(ValueError, match="TIDINGS_APNS_KEY_FILE"):
        ApnsProvider.from_settings(Settings(apns_key_id=KEY_ID, apns_team_id=TEAM_ID, apns_topic=TOPIC))


def test_the_provider_token_is_made_again_after_fifty_minutes(apns: tuple[FakeApns, Settings]) -> None:
    _fake, settings = apns
    provider = ApnsProvider.from_settings(settings)
    first = provider.provider_token()
    assert provider.provider_token() == first
    provider._token_made -= 50 * 60  # as if fifty minutes had passed
    assert provider.provider_token() != first
    asyncio.run(provider.close())
