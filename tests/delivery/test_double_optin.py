"""Double opt-in: subscribing through a double opt-in list sends a confirmation email, and the
link in it completes the subscription after one press."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import html
import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import AccountKeys
from tests.delivery.pagekit import email_marketing, events, is_member
from tidings.config import Settings
from tidings.db.base import set_clock
from tidings.db.session import Database
from tidings.delivery import optin
from tidings.delivery.tables import MessageSend
from tidings.delivery.worker import deliver_due
from tidings.jobs.worker import drain


@pytest.fixture
def outbox_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"outbox_dir": str(tmp_path / "outbox")})


def _confirmations(db: Database, account_id: str, profile_id: str) -> list[MessageSend]:
    with db.read() as session:
        rows = session.execute(
            select(MessageSend)
            .where(
                MessageSend.account_id == account_id,
                MessageSend.profile_id == profile_id,
                MessageSend.idempotency_key.startswith("a:doi:"),
            )
            .order_by(MessageSend.created)
        ).scalars()
        return list(rows)


def _sent_html(settings: Settings, send_id: str) -> str:
    (path,) = Path(settings.outbox_dir).glob(f"*/{send_id}.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "Confirm your subscription"
    part = message.get_body(("html",))  # type: ignore[attr-defined]
    assert part is not None
    return str(part.get_content())


def _email() -> str:
    return f"doi-{uuid.uuid4().hex[:10]}@example.test"


def _double_list(sdk, name: str = "Newsletter") -> str:  # type: ignore[no-untyped-def]
    body = {"data": {"type": "list", "attributes": {"name": name, "opt_in_process": "double_opt_in"}}}
    return str(sdk.Lists.create_list(body).data.id)


def _subscribe(sdk, email: str, list_id: str) -> None:  # type: ignore[no-untyped-def]
    profile = {
        "type": "profile",
        "attributes": {"email": email, "subscriptions": {"email": {"marketing": {"consent": "SUBSCRIBED"}}}},
    }
    body = {
        "data": {
            "type": "profile-subscription-bulk-create-job",
            "attributes": {"custom_source": "Footer form", "profiles": {"data": [profile]}},
            "relationships": {"list": {"data": {"type": "list", "id": list_id}}},
        }
    }
    assert sdk.Profiles.bulk_subscribe_profiles(body) is None


def _profile_id(sdk, email: str) -> str:  # type: ignore[no-untyped-def]
    [profile] = sdk.Profiles.get_profiles(filter=f'equals(email,"{email}")').data
    return str(profile.id)


def _confirm_path(sent_html: str) -> str:
    [url] = re.findall(r'href="([^"]+/p/confirm\?t=[^"]+)"', sent_html)
    return "/p/confirm" + html.unescape(url).split("/p/confirm", 1)[1]


def test_subscribing_through_a_double_opt_in_list_sends_a_confirmation(
    sdk, db: Database, account: AccountKeys, http, outbox_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    list_id = _double_list(sdk, "Weekly news")
    address = _email()
    _subscribe(sdk, address, list_id)
    drain(db)
    pid = _profile_id(sdk, address)
    # Pending: consent unchanged, not on the list yet, one confirmation email in the ledger.
    assert email_marketing(sdk, pid).consent == "NEVER_SUBSCRIBED"
    assert not is_member(db, account.id, list_id, pid)
    [row] = _confirmations(db, account.id, pid)
    assert row.idempotency_key.startswith(f"a:doi:{list_id}:{pid}:") and row.status == "planned"
    deliver_due(db, outbox_settings)
    [row] = _confirmations(db, account.id, pid)
    assert row.status == "sent" and row.recipient == address
    sent = _sent_html(outbox_settings, row.id)
    assert "Shop A" in sent and "Weekly news" in sent and "/t/o/" not in sent

    # The link: a GET (a scanner, or the person) shows a button and confirms nothing.
    path = _confirm_path(sent)
    page = http.get(path)
    assert page.status_code == 200 and "Confirm my subscription</button>" in page.text
    assert http.head(path).status_code == 200
    assert email_marketing(sdk, pid).consent == "NEVER_SUBSCRIBED"

    # The press confirms: consent SUBSCRIBED (double opt-in), on the list; a second press is harmless.
    for _ in range(2):
        done = http.post(path, data={"confirm": "subscribe"})
        assert done.status_code == 200 and "confirmed" in done.text
    marketing = email_marketing(sdk, pid)
    assert marketing.consent == "SUBSCRIBED" and marketing.double_optin is True
    assert marketing.custom_method_detail == "Footer form"
    assert is_member(db, account.id, list_id, pid)
    assert len(events(db, account.id, pid, "Subscribed to Email Marketing")) == 1


def test_an_already_subscribed_profile_joins_without_a_confirmation(
    sdk, db: Database, account: AccountKeys
) -> None:  # type: ignore[no-untyped-def]
    single = sdk.Lists.create_list(
        {"data": {"type": "list", "attributes": {"name": "Single", "opt_in_process": "single_opt_in"}}}
    ).data.id
    address = _email()
    _subscribe(sdk, address, single)
    drain(db)
    double = _double_list(sdk)
    _subscribe(sdk, address, double)
    drain(db)
    pid = _profile_id(sdk, address)
    assert _confirmations(db, account.id, pid) == []
    assert is_member(db, account.id, double, pid)


def test_a_repeated_request_sends_once_and_a_later_one_again(sdk, db: Database, account: AccountKeys) -> None:  # type: ignore[no-untyped-def]
    list_id = _double_list(sdk)
    address = _email()
    now = dt.datetime(2026, 12, 6, 10, 5, tzinfo=dt.UTC)
    set_clock(lambda: now)
    try:
        for _ in range(2):  # a retried job, or the form sent twice
            _subscribe(sdk, address, list_id)
            drain(db)
        pid = _profile_id(sdk, address)
        assert len(_confirmations(db, account.id, pid)) == 1
        now += dt.timedelta(hours=1)
        _subscribe(sdk, address, list_id)
        drain(db)
        assert len(_confirmations(db, account.id, pid)) == 2
    finally:
        set_clock(None)


def test_the_confirmation_email_names_are_literal_text() -> None:
    definition = optin.confirmation_email("http://127.0.0.1:8080/p/confirm?t=abc", "{{ secret }} & Co", None)
    assert definition.html is not None and "{{" not in definition.html and "&amp; Co" in definition.html


def test_an_ended_request_confirms_nothing(
    sdk, db: Database, account: AccountKeys, http, outbox_settings: Settings
) -> None:  # type: ignore[no-untyped-def]  # type: ignore[no-untyped-def]
    list_id = _double_list(sdk)
    address = _email()
    _subscribe(sdk, address, list_id)
    drain(db)
    pid = _profile_id(sdk, address)
    deliver_due(db, outbox_settings)
    [row] = _confirmations(db, account.id, pid)
    path = _confirm_path(_sent_html(outbox_settings, row.id))
    http.post(path, data={})
    assert email_marketing(sdk, pid).consent == "SUBSCRIBED"
    # After an unsubscribe the old link subscribes no one again.
    sdk.Profiles.bulk_unsubscribe_profiles(
        {
            "data": {
                "type": "profile-subscription-bulk-delete-job",
                "attributes": {
                    "profiles": {
                        "data": [
                            {
                                "type": "profile",
                                "attributes": {
                                    "email": address,
                                    "subscriptions": {"email": {"marketing": {"consent": "UNSUBSCRIBED"}}},
                                },
                            }
                        ]
                    }
                },
            }
        }
    )
    drain(db)
    again = http.post(path, data={})
    assert again.status_code == 404 and "expired" in again.text
    assert email_marketing(sdk, pid).consent == "UNSUBSCRIBED"


def test_a_signup_form_through_client_subscriptions_also_sends_the_confirmation(
    sdk, client, db: Database, account: AccountKeys
) -> None:  # type: ignore[no-untyped-def]
    list_id = _double_list(sdk, "Footer")
    address = _email()
    body = {
        "data": {
            "type": "subscription",
            "attributes": {
                "custom_source": "footer form",
                "profile": {"data": {"type": "profile", "attributes": {"email": address}}},
            },
            "relationships": {"list": {"data": {"type": "list", "id": list_id}}},
        }
    }
    url = f"/client/subscriptions?company_id={account.public_key}"
    assert client.post(url, json=body, headers={"revision": "2026-10-15"}).status_code == 202
    pid = _profile_id(sdk, address)
    assert len(_confirmations(db, account.id, pid)) == 1
    assert email_marketing(sdk, pid).consent == "NEVER_SUBSCRIBED"
    assert not is_member(db, account.id, list_id, pid)
