"""A push token the push service refuses is unregistered, as `unregister_client_push_token` does."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from klaviyo_api import KlaviyoAPI

from tests.delivery.fake_fcm import FakeFcm, credentials_file, rsa_key
from tests.delivery.servers import serve
from tidings.config import Settings
from tidings.db.session import Database
from tidings.delivery import push
from tidings.delivery.messages import PushPayload
from tidings.delivery.provider import OutboundMessage, RecipientRejected
from tidings.delivery.providers.fcm import FcmProvider
from tidings.delivery.tables import Channel


def register(sdk: KlaviyoAPI, token: str, email: str, platform: str = "android") -> str:
    body = {
        "data": {
            "type": "push-token",
            "attributes": {
                "token": token,
                "platform": platform,
                "vendor": "fcm",
                "enablement_status": "AUTHORIZED",
                "profile": {"data": {"type": "profile", "attributes": {"email": email}}},
            },
        }
    }
    sdk.Profiles.create_push_token(body)
    [profile] = sdk.Profiles.get_profiles(filter=f'equals(email,"{email}")').data
    return str(profile.id)


def statuses(sdk: KlaviyoAPI) -> dict[str, str]:
    return {t.attributes.token: t.attributes.enablement_status for t in sdk.Profiles.get_push_tokens().data}


@pytest.fixture
def fcm(tmp_path: Path) -> Iterator[tuple[FakeFcm, Settings]]:
    pem, public = rsa_key()
    fake = FakeFcm(public)
    with serve(fake.app()) as url:
        fake.url = url
        yield fake, Settings(fcm_api_url=url, fcm_credentials_file=str(credentials_file(tmp_path, url, pem)))


def test_a_token_fcm_calls_unregistered_is_unregistered(
    db: Database, account: Any, sdk: KlaviyoAPI, fcm: tuple[FakeFcm, Settings]
) -> None:
    fake, settings = fcm
    profile_id = register(sdk, "gone-token", "gone@example.com")
    register(sdk, "live-token", "live@example.com")
    fake.unregistered.add("gone-token")
    message = OutboundMessage(
        account_id=account.id,
        send_id="01JSEND000000000000000009",
        idempotency_key="k",
        channel=Channel.PUSH,
        message_id="m",
        content=PushPayload(body="hello").model_dump_json().encode(),
        content_sha256="x",
        recipient="gone-token",
        sender="android",
    )
    provider = FcmProvider.from_settings(settings)

    async def send() -> None:
        try:
            await provider.send(message)
        finally:
            await provider.close()

    with pytest.raises(RecipientRejected):
        asyncio.run(send())
    # What the worker does with the refusal:
    with db.write() as session:
        assert push.token_rejected(session, account.id, profile_id, "gone-token") is True
    assert statuses(sdk) == {"gone-token": "UNAUTHORIZED", "live-token": "AUTHORIZED"}
    with db.write() as session:
        assert push.token_rejected(session, account.id, profile_id, "gone-token") is False  # once


def test_a_token_that_moved_to_another_profile_or_account_is_left_alone(
    db: Database, account: Any, other_account: Any, sdk: KlaviyoAPI, server: Any
) -> None:
    first = register(sdk, "moved-token", "first@example.com")
    second = register(sdk, "moved-token", "second@example.com")  # the device signed in as someone else
    assert first != second
    other_sdk = KlaviyoAPI(api_key=other_account.private_key, test_host=server.url, max_retries=0)
    theirs = register(other_sdk, "moved-token", "first@example.com")
    with db.write() as session:
        assert push.token_rejected(session, account.id, first, "moved-token") is False
        assert push.token_rejected(session, account.id, second, "unknown-token") is False
    assert statuses(sdk) == {"moved-token": "AUTHORIZED"}
    with db.write() as session:
        assert push.token_rejected(session, account.id, second, "moved-token") is True
    assert statuses(sdk) == {"moved-token": "UNAUTHORIZED"}
    assert statuses(other_sdk) == {"moved-token": "AUTHORIZED"}
    assert theirs
