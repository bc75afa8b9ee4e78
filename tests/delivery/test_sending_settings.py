"""An account's sending settings: smart sending windows per channel and SMS quiet hours, read
by the gate; a window change holds back nobody less than the window they were sent under."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import AccountKeys
from tidings.config import Settings
from tidings.db.base import set_clock
from tidings.db.session import Database
from tidings.delivery.tables import MessageSend
from tidings.delivery.worker import deliver_due

URL = "/api/x-tidings/sending-settings"


@pytest.fixture
def outbox_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"outbox_dir": str(tmp_path / "outbox")})


@pytest.fixture
def clock() -> Iterator[list[dt.datetime]]:
    """A clock the test moves: `clock[0]` is now."""
    now = [dt.datetime.now(dt.UTC)]
    set_clock(lambda: now[0])
    yield now
    set_clock(None)


def _patch(client: TestClient, keys: AccountKeys, **attributes: Any) -> Any:
    body = {"data": {"type": "sending-setting", "id": keys.id, "attributes": attributes}}
    return client.patch(URL, json=body, headers=keys.headers())


def _marketing_email(client: TestClient, keys: AccountKeys, address: str) -> str:
    answer = client.post(
        "/api/x-tidings/message-sends",
        json={
            "data": {
                "type": "message-send",
                "attributes": {
                    "idempotency_key": f"k-{time.monotonic_ns()}",
                    "profile": {"email": address},
                    "subject": "News",
                    "html": "<html><body><p>News</p></body></html>",
                    "transactional": False,
                },
            }
        },
        headers=keys.headers(),
    )
    assert answer.status_code == 202, answer.text
    return str(answer.json()["data"]["id"])


def _outcome(db: Database, account_id: str, send_id: str) -> tuple[str, str | None]:
    with db.read() as session:
        row = session.get(MessageSend, (account_id, send_id))
        assert row is not None
        return row.status, row.reason


def test_defaults_are_klaviyos(client: TestClient, account: AccountKeys) -> None:
    answer = client.get(URL, headers=account.headers())
    assert answer.status_code == 200
    data = answer.json()["data"]
    assert (data["type"], data["id"]) == ("sending-setting", account.id)
    assert data["attributes"] == {
        "smart_sending_hours": {"email": 16, "sms": 24, "push": 24},
        "sms_quiet_hours": {"start": "21:00", "end": "08:00"},
    }


def test_an_update_changes_what_is_given(client: TestClient, account: AccountKeys) -> None:
    answer = _patch(client, account, smart_sending_hours={"sms": 12})
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["attributes"]["smart_sending_hours"] == {"email": 16, "sms": 12, "push": 24}
    answer = _patch(client, account, sms_quiet_hours={"start": "20:30", "end": "09:00"})
    attributes = client.get(URL, headers=account.headers()).json()["data"]["attributes"]
    assert attributes == {
        "smart_sending_hours": {"email": 16, "sms": 12, "push": 24},
        "sms_quiet_hours": {"start": "20:30", "end": "09:00"},
    }


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"smart_sending_hours": {"email": 0}}, "/data/attributes/smart_sending_hours/email"),
        ({"smart_sending_hours": {"push": 721}}, "/data/attributes/smart_sending_hours/push"),
        ({"smart_sending_hours": {"email": None}}, "/data/attributes/smart_sending_hours/email"),
        ({"smart_sending_hours": {"fax": 3}}, "/data/attributes/smart_sending_hours/fax"),
        ({"sms_quiet_hours": {"start": "25:00", "end": "08:00"}}, "/data/attributes/sms_quiet_hours/start"),
        ({"sms_quiet_hours": {"start": "21:00", "end": "21:00"}}, "/data/attributes/sms_quiet_hours/end"),
    ],
)
def test_bad_values_are_400_at_their_pointer(
    client: TestClient, account: AccountKeys, attributes: dict[str, Any], pointer: str
) -> None:
    answer = _patch(client, account, **attributes)
    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"][0]["source"]["pointer"] == pointer


def test_the_body_must_name_the_account(client: TestClient, account: AccountKeys) -> None:
    body = {"data": {"type": "sending-setting", "id": "XXXXXX", "attributes": {}}}
    answer = client.patch(URL, json=body, headers=account.headers())
    assert answer.status_code == 409
    assert answer.json()["errors"][0]["source"]["pointer"] == "/data/id"


def test_one_accounts_settings_are_its_own(
    client: TestClient, account: AccountKeys, other_account: AccountKeys
) -> None:
    assert _patch(client, account, smart_sending_hours={"email": 2}).status_code == 200
    theirs = client.get(URL, headers=other_account.headers()).json()["data"]
    assert theirs["id"] == other_account.id
    assert theirs["attributes"]["smart_sending_hours"]["email"] == 16
    # B naming A's id changes nothing of A's.
    body = {
        "data": {
            "type": "sending-setting",
            "id": account.id,
            "attributes": {"smart_sending_hours": {"email": 5}},
        }
    }
    assert client.patch(URL, json=body, headers=other_account.headers()).status_code == 409
    mine = client.get(URL, headers=account.headers()).json()["data"]["attributes"]
    assert mine["smart_sending_hours"]["email"] == 2


def test_the_window_is_the_accounts_and_never_retroactive(
    client: TestClient,
    db: Database,
    account: AccountKeys,
    outbox_settings: Settings,
    clock: list[dt.datetime],
) -> None:
    assert _patch(client, account, smart_sending_hours={"email": 2}).status_code == 200
    first = _marketing_email(client, account, "win@example.com")
    deliver_due(db, outbox_settings)
    assert _outcome(db, account.id, first) == ("sent", None)

    clock[0] += dt.timedelta(hours=1)  # inside the 2-hour window
    held = _marketing_email(client, account, "win@example.com")
    deliver_due(db, outbox_settings)
    assert _outcome(db, account.id, held) == ("skipped", "Smart Sending")

    clock[0] += dt.timedelta(hours=1, minutes=1)  # the first attempt's window has ended
    second = _marketing_email(client, account, "win@example.com")
    deliver_due(db, outbox_settings)
    assert _outcome(db, account.id, second) == ("sent", None)

    # Sent under a 2-hour window, then the window is made 10 hours: the new length applies to
    # later attempts only, so 3 hours on the person may hear from the account again ...
    assert _patch(client, account, smart_sending_hours={"email": 10}).status_code == 200
    clock[0] += dt.timedelta(hours=3)
    third = _marketing_email(client, account, "win@example.com")
    deliver_due(db, outbox_settings)
    assert _outcome(db, account.id, third) == ("sent", None)
    # ... and, shortened again to 1 hour, the third's 10 hours still hold.
    assert _patch(client, account, smart_sending_hours={"email": 1}).status_code == 200
    clock[0] += dt.timedelta(hours=5)
    fourth = _marketing_email(client, account, "win@example.com")
    deliver_due(db, outbox_settings)
    assert _outcome(db, account.id, fourth) == ("skipped", "Smart Sending")
