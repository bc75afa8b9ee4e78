"""The FCM HTTP v1 adapter against a local fake of FCM and Google's token endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.delivery.fake_fcm import Failure, FakeFcm, credentials_file, rsa_key
from tests.delivery.servers import serve
from tidings.config import Settings
from tidings.delivery.messages import PushPayload
from tidings.delivery.provider import (
    OutboundMessage,
    PermanentSendError,
    RecipientRejected,
    RetryableSendError,
)
from tidings.delivery.providers.fcm import FcmProvider
from tidings.delivery.tables import Channel


@pytest.fixture
def fcm(tmp_path: Path) -> Iterator[tuple[FakeFcm, Settings]]:
    pem, public = rsa_key()
    fake = FakeFcm(public)
    with serve(fake.app()) as url:
        fake.url = url
        path = credentials_file(tmp_path, url, pem)
        yield fake, Settings(fcm_api_url=url, fcm_credentials_file=str(path))


def push_message(token: str = "fcm-token-1", platform: str = "android", **payload: object) -> OutboundMessage:
    content = PushPayload(**{"title": "Back in stock", "body": "Your shoes are back", **payload})  # type: ignore[arg-type]
    return OutboundMessage(
        account_id="AbC123",
        send_id="01JSEND000000000000000001",
        idempotency_key="k",
        channel=Channel.PUSH,
        message_id="m",
        content=content.model_dump_json().encode(),
        content_sha256="x",
        recipient=token,
        sender=platform,
    )


def run(provider: FcmProvider, *messages: OutboundMessage) -> list[str | Exception]:
    async def go() -> list[str | Exception]:
        try:
            return await asyncio.gather(*(provider.send(m) for m in messages), return_exceptions=True)  # type: ignore[return-value]
        finally:
            await provider.close()

    return asyncio.run(go())


def test_messages_are_sent_with_one_cached_access_token(fcm: tuple[FakeFcm, Settings]) -> None:
    fake, settings = fcm
    message = push_message(data={"product": "42"}, sound="default", badge=3)
    results = run(
        FcmProvider.from_settings(settings), message, push_message("fcm-token-2"), push_message("fcm-token-3")
    )
    assert [r for r in results if not isinstance(r, str)] == []
    assert all(str(r).startswith("projects/tidings-test/messages/") for r in results)
    assert fake.grants == 1  # the JWT grant was checked against the public key once, then cached
    first = next(m for m in fake.taken if m["token"] == "fcm-token-1")
    assert first["notification"] == {"title": "Back in stock", "body": "Your shoes are back"}
    assert first["data"] == {"product": "42"}
    assert first["apns"]["payload"]["aps"] == {"sound": "default", "badge": 3}
    assert first["apns"]["headers"]["apns-collapse-id"] == "01JSEND000000000000000001"
    assert first["android"]["notification"] == {"sound": "default"}


def test_an_expired_access_token_is_asked_for_again(fcm: tuple[FakeFcm, Settings]) -> None:
    fake, settings = fcm
    fake.token_lifetime = 0  # expires at once
    run(FcmProvider.from_settings(settings), push_message())
    provider = FcmProvider.from_settings(settings)

    async def twice() -> None:
        await provider.send(push_message())
        await provider.send(push_message())
        await provider.close()

    asyncio.run(twice())
    assert fake.grants == 3


def test_an_unregistered_token_rejects_the_recipient(fcm: tuple[FakeFcm, Settings]) -> None:
    fake, settings = fcm
    fake.unregistered.add("gone")
    [result] = run(FcmProvider.from_settings(settings), push_message("gone"))
    assert isinstance(result, RecipientRejected) and result.status == "UNREGISTERED"


def test_an_invalid_token_rejects_the_recipient_an_invalid_payload_does_not(
    fcm: tuple[FakeFcm, Settings],
) -> None:
    fake, settings = fcm
    fake.fail.append(
        Failure(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Invalid value at 'message.data[0].value'")
    )
    [bad_payload] = run(FcmProvider.from_settings(settings), push_message())
    [bad_token] = run(FcmProvider.from_settings(settings), push_message(" "))
    assert type(bad_payload) is PermanentSendError
    assert isinstance(bad_token, RecipientRejected) and bad_token.status == "INVALID_ARGUMENT"


@pytest.mark.parametrize(
    ("status", "rpc", "headers", "wait"),
    [
        (429, "RESOURCE_EXHAUSTED", {"Retry-After": "12"}, 12.0),
        (503, "UNAVAILABLE", {}, None),
    ],
)
def test_quota_and_unavailability_are_retryable(
    fcm: tuple[FakeFcm, Settings], status: int, rpc: str, headers: dict[str, str], wait: float | None
) -> None:
    fake, settings = fcm
    code = "QUOTA_EXCEEDED" if status == 429 else "UNAVAILABLE"
    fake.fail.append(Failure(status, code, rpc, "try later", headers))
    [result] = run(FcmProvider.from_settings(settings), push_message())
    assert isinstance(result, RetryableSendError) and result.retry_after == wait


def test_a_grant_signed_with_another_key_is_refused(fcm: tuple[FakeFcm, Settings], tmp_path: Path) -> None:
    fake, settings = fcm
    other_pem, _ = rsa_key()
    other = credentials_file(tmp_path, fake.url, other_pem)
    [result] = run(
        FcmProvider.from_settings(settings.model_copy(update={"fcm_credentials_file": str(other)})),
        push_message(),
    )
    assert isinstance(result, PermanentSendError) and result.reason == "fcm_auth_refused"
    assert fake.grants == 0 and not fake.taken


def test_missing_credentials_are_named() -> None:
    with pytest.raises(ValueError, match="TIDINGS_FCM_CREDENTIALS_FILE"):
        FcmProvider.from_settings(Settings())


def test_a_revoked_access_token_is_retryable_and_replaced(fcm: tuple[FakeFcm, Settings]) -> None:
    fake, settings = fcm
    provider = FcmProvider.from_settings(settings)

    async def scenario() -> list[str | BaseException]:
        results: list[str | BaseException] = [await provider.send(push_message())]
        fake.issued.clear()  # Google revoked it early
        for _ in range(2):
            try:
                results.append(await provider.send(push_message()))
            except RetryableSendError as error:
                results.append(error)
        await provider.close()
        return results

    first, refused, again = asyncio.run(scenario())
    assert isinstance(first, str) and isinstance(again, str)
    assert isinstance(refused, RetryableSendError) and refused.reason == "fcm_unauthenticated"
    assert fake.grants == 2
