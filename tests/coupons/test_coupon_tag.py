"""`{% coupon_code %}`: each message takes one unused code at send time, exactly once; a pool
that runs out skips the message with its reason, never sends an empty code."""

from __future__ import annotations

import email
import email.policy
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import AccountKeys
from tidings.config import Settings
from tidings.coupons import service as coupons
from tidings.coupons.participants import COUPON_CODES
from tidings.coupons.tables import CouponCode
from tidings.db.base import utcnow
from tidings.db.session import Database
from tidings.delivery.tables import MessageSend
from tidings.delivery.worker import deliver_due

HTML = "<html><body><p>Your code: <b>{% coupon_code 'WELCOME' %}</b></p></body></html>"


@pytest.fixture
def outbox_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"outbox_dir": str(tmp_path / "outbox")})


def _post(client: TestClient, keys: AccountKeys, path: str, body: dict[str, Any]) -> Any:
    response = client.post(path, json=body, headers=keys.headers())
    assert response.status_code in (200, 201, 202), response.text
    return response.json()["data"]


def _pool(client: TestClient, keys: AccountKeys, codes: list[str]) -> None:
    _post(
        client, keys, "/api/coupons", {"data": {"type": "coupon", "attributes": {"external_id": "WELCOME"}}}
    )
    for code in codes:
        body = {
            "data": {
                "type": "coupon-code",
                "attributes": {"unique_code": code},
                "relationships": {"coupon": {"data": {"type": "coupon", "id": "WELCOME"}}},
            }
        }
        _post(client, keys, "/api/coupon-codes", body)


def _send(client: TestClient, keys: AccountKeys, address: str, html: str = HTML) -> str:
    attributes = {
        "idempotency_key": f"k-{time.monotonic_ns()}",
        "profile": {"email": address},
        "subject": "Welcome",
        "html": html,
    }
    return str(
        _post(
            client,
            keys,
            "/api/x-tidings/message-sends",
            {"data": {"type": "message-send", "attributes": attributes}},
        )["id"]
    )


def _row(db: Database, account_id: str, send_id: str) -> MessageSend:
    with db.read() as session:
        row = session.get(MessageSend, (account_id, send_id))
        assert row is not None
        return row


def _html(settings: Settings, send_id: str) -> str:
    (path,) = Path(settings.outbox_dir).glob(f"*/{send_id}.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    body = message.get_body(("html",))  # type: ignore[attr-defined]
    return str(body.get_content())


def test_each_recipient_gets_their_own_code_until_the_pool_runs_out(
    client: TestClient, db: Database, account: AccountKeys, outbox_settings: Settings
) -> None:
    _pool(client, account, ["AAA111", "BBB222"])
    sends = [_send(client, account, f"p{i}@example.com") for i in range(3)]
    deliver_due(db, outbox_settings)
    rows = [_row(db, account.id, s) for s in sends]
    assert [r.status for r in rows] == ["sent", "sent", "skipped"]
    assert rows[2].reason == "Coupon Unavailable"
    codes = {_html(outbox_settings, r.id).split("<b>")[1].split("</b>")[0] for r in rows[:2]}
    assert codes == {"AAA111", "BBB222"}

    listed = client.get(
        "/api/coupon-codes", params={"filter": "equals(coupon.id,'WELCOME')"}, headers=account.headers()
    ).json()["data"]
    by_profile = {c["relationships"]["profile"]["data"]["id"]: c for c in listed}
    assert {r.profile_id for r in rows[:2]} == set(by_profile)
    assert all(c["attributes"]["status"] == "ASSIGNED_TO_PROFILE" for c in listed)
    mine = client.get(
        "/api/coupon-codes",
        params={"filter": f"equals(profile.id,'{rows[0].profile_id}')"},
        headers=account.headers(),
    ).json()["data"]
    assert len(mine) == 1 and mine[0]["attributes"]["unique_code"] in codes
    deleting = client.delete(f"/api/coupon-codes/{mine[0]['id']}", headers=account.headers())
    assert deleting.status_code == 409  # given to a profile: kept


def test_a_skipped_message_gives_its_code_back(
    client: TestClient, db: Database, account: AccountKeys, outbox_settings: Settings
) -> None:
    _pool(client, account, ["ONLY1"])
    gone = HTML + "{% catalog 'no-such-item' unpublished='cancel' %}{% endcatalog %}"
    skipped = _send(client, account, "first@example.com", html=gone)
    deliver_due(db, outbox_settings)
    assert _row(db, account.id, skipped).reason == "Catalog Item Unavailable"
    sent = _send(client, account, "second@example.com")
    deliver_due(db, outbox_settings)
    assert _row(db, account.id, sent).status == "sent"
    assert "ONLY1" in _html(outbox_settings, sent)


def test_one_code_per_message_however_often_it_renders(
    db: Database, account: AccountKeys, client: TestClient
) -> None:
    _pool(client, account, ["C1", "C2"])
    profile = client.post(
        "/api/profiles",
        json={"data": {"type": "profile", "attributes": {"email": "once@example.com"}}},
        headers=account.headers(),
    ).json()["data"]["id"]
    now = utcnow()
    with db.write() as session:
        first = coupons.hand_out(session, account.id, "WELCOME", profile, "send-1", now)
        again = coupons.hand_out(session, account.id, "WELCOME", profile, "send-1", now)
        other = coupons.hand_out(session, account.id, "WELCOME", profile, "send-2", now)
    assert first == again == "C1"
    assert other == "C2"
    with db.write() as session, pytest.raises(coupons.CouponsExhausted):
        coupons.hand_out(session, account.id, "WELCOME", profile, "send-3", now)


def test_a_preview_takes_no_code(client: TestClient, account: AccountKeys) -> None:
    _pool(client, account, ["KEEP"])
    template = _post(
        client,
        account,
        "/api/templates",
        {"data": {"type": "template", "attributes": {"name": "T", "editor_type": "CODE", "html": HTML}}},
    )
    rendered = _post(
        client,
        account,
        "/api/template-render",
        {"data": {"type": "template", "id": template["id"], "attributes": {"context": {}}}},
    )
    assert "PREVIEW-WELCOME" in rendered["attributes"]["html"]
    listed = client.get(
        "/api/coupon-codes", params={"filter": "equals(coupon.id,'WELCOME')"}, headers=account.headers()
    ).json()["data"]
    assert [c["attributes"]["status"] for c in listed] == ["UNASSIGNED"]


def test_codes_follow_a_merge_and_an_unmerge_and_lose_the_person_on_deletion(
    db: Database, account: AccountKeys, client: TestClient
) -> None:
    _pool(client, account, ["M1"])
    with db.write() as session:
        coupons.hand_out(session, account.id, "WELCOME", "PSOURCE", "send-m", utcnow())
        record = COUPON_CODES.move(session, account.id, "PSOURCE", "PDEST", "merge-1")
    with db.read() as session:
        assert session.get(CouponCode, (account.id, "WELCOME-M1")).profile_id == "PDEST"  # type: ignore[union-attr]
    with db.write() as session:
        COUPON_CODES.restore(session, account.id, "PSOURCE", "PDEST", record, "merge-1")
    with db.read() as session:
        assert session.get(CouponCode, (account.id, "WELCOME-M1")).profile_id == "PSOURCE"  # type: ignore[union-attr]
    with db.write() as session:
        COUPON_CODES.delete(session, account.id, "PSOURCE")
    with db.read() as session:
        code = session.get(CouponCode, (account.id, "WELCOME-M1"))
        assert code is not None and code.profile_id is None and code.status == "ASSIGNED_TO_PROFILE"
