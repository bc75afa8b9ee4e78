"""Double opt-in: subscribing through a double opt-in list sends a confirmation email, and the
link in it completes the subscription after one press."""

from __future__ import annotations

import datetime as dt
import html
import importlib.util
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import AccountKeys
from tests.delivery.pagekit import email_marketing, events, is_member
from tidings.db.session import Database
from tidings.delivery import optin
from tidings.delivery.messages import EmailDefinition
from tidings.delivery.tables import MessageSend
from tidings.jobs.worker import drain

HAS_TRANSACTIONAL = importlib.util.find_spec("tidings.delivery.transactional") is not None


@dataclass
class Planned:
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, session, account_id, *, profile_id, definition, key):  # type: ignore[no-untyped-def]
        self.calls.append(
            {"account_id": account_id, "profile_id": profile_id, "definition": definition, "key": key}
        )


@pytest.fixture
def planned() -> Iterator[Planned]:
    """Stands in for delivery.transactional.send_message: what the listener asked to send."""
    fake = Planned()
    previous = optin._send_message
    optin.set_sender(fake)
    yield fake
    optin.set_sender(previous)


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


def _confirm_path(definition: EmailDefinition) -> str:
    assert definition.html is not None
    [url] = re.findall(r'href="([^"]+/p/confirm\?t=[^"]+)"', definition.html)
    return "/p/confirm" + html.unescape(url).split("/p/confirm", 1)[1]


def test_subscribing_through_a_double_opt_in_list_asks_for_confirmation(
    sdk, db: Database, account: AccountKeys, http, planned: Planned
) -> None:  # type: ignore[no-untyped-def]
    list_id = _double_list(sdk, "Weekly news")
    address = _email()
    _subscribe(sdk, address, list_id)
    drain(db)
    pid = _profile_id(sdk, address)
    # Pending: consent unchanged, not on the list yet, one confirmation email planned.
    assert email_marketing(sdk, pid).consent == "NEVER_SUBSCRIBED"
    assert not is_member(db, account.id, list_id, pid)
    [call] = planned.calls
    assert call["account_id"] == account.id and call["profile_id"] == pid
    assert call["key"].startswith(f"doi:{list_id}:{pid}:")
    definition = call["definition"]
    assert definition.subject == "Confirm your subscription" and definition.transactional
    assert "Shop A" in definition.html and "Weekly news" in definition.html
    assert not definition.track_clicks  # the button goes straight to the page

    # The link: a GET (a scanner, or the person) shows a button and confirms nothing.
    path = _confirm_path(definition)
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
    sdk, db: Database, account: AccountKeys, planned: Planned
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
    assert planned.calls == []
    assert is_member(db, account.id, double, pid)


def test_a_retried_request_plans_one_email_and_a_later_one_another() -> None:
    t0 = dt.datetime(2026, 12, 6, 10, 5, tzinfo=dt.UTC)
    assert optin.confirmation_key("L1", "P1", t0) == optin.confirmation_key(
        "L1", "P1", t0 + dt.timedelta(minutes=50)
    )
    assert optin.confirmation_key("L1", "P1", t0) != optin.confirmation_key(
        "L1", "P1", t0 + dt.timedelta(hours=1)
    )
    assert optin.confirmation_key("L1", "P1", t0) != optin.confirmation_key("L2", "P1", t0)


def test_the_confirmation_email_names_are_literal_text() -> None:
    definition = optin.confirmation_email("http://127.0.0.1:8080/p/confirm?t=abc", "{{ secret }} & Co", None)
    assert definition.html is not None and "{{" not in definition.html and "&amp; Co" in definition.html


def test_an_expired_or_foreign_confirmation_link_confirms_nothing(
    sdk, db: Database, account: AccountKeys, http, planned: Planned
) -> None:  # type: ignore[no-untyped-def]
    list_id = _double_list(sdk)
    address = _email()
    _subscribe(sdk, address, list_id)
    drain(db)
    pid = _profile_id(sdk, address)
    path = _confirm_path(planned.calls[0]["definition"])
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


@pytest.mark.skipif(not HAS_TRANSACTIONAL, reason="delivery.transactional has not landed on this branch")
def test_the_confirmation_email_is_a_ledger_row(sdk, db: Database, account: AccountKeys, http) -> None:  # type: ignore[no-untyped-def]
    list_id = _double_list(sdk)
    address = _email()
    _subscribe(sdk, address, list_id)
    drain(db)
    pid = _profile_id(sdk, address)
    with db.read() as session:
        rows = session.execute(
            select(MessageSend).where(MessageSend.account_id == account.id, MessageSend.profile_id == pid)
        ).scalars()
        [row] = list(rows)
    assert row.channel == "email" and row.status in {"planned", "sending", "sent"}
