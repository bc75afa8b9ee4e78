"""bulk_subscribe_profiles, bulk_unsubscribe_profiles and /client/subscriptions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from openapi_client.exceptions import ApiException

from tidings.consent import gateways as consent_lists
from tidings.jobs.worker import drain


@dataclass
class FakeLists:
    """Lists held in memory, so that these tests check consent's side alone."""

    processes: dict[str, str] = field(default_factory=dict)
    members: dict[str, set[str]] = field(default_factory=dict)

    def opt_in_process(self, session, account_id, list_id):  # type: ignore[no-untyped-def]
        return self.processes.get(list_id)

    def is_member(self, session, account_id, list_id, profile_id):  # type: ignore[no-untyped-def]
        return profile_id in self.members.get(list_id, set())

    def member_ids(self, session, account_id, list_id):  # type: ignore[no-untyped-def]
        return sorted(self.members.get(list_id, set()))

    def add_members(self, session, account_id, list_id, profile_ids, *, historical):  # type: ignore[no-untyped-def]
        self.members.setdefault(list_id, set()).update(profile_ids)


@pytest.fixture
def fake_lists() -> Iterator[FakeLists]:
    fake = FakeLists({"SINGLE": "single_opt_in", "DOUBLE": "double_opt_in"})
    real = consent_lists.lists()
    consent_lists.set_list_gateway(fake)
    yield fake
    consent_lists.set_list_gateway(real)


def _subscribe_body(profiles: list[dict], list_id: str | None = None, **attributes: object) -> dict:
    body: dict = {
        "data": {
            "type": "profile-subscription-bulk-create-job",
            "attributes": {"custom_source": "tests", "profiles": {"data": profiles}, **attributes},
        }
    }
    if list_id:
        body["data"]["relationships"] = {"list": {"data": {"type": "list", "id": list_id}}}
    return body


def _email_marketing(email: str) -> dict:
    return {
        "type": "profile",
        "attributes": {"email": email, "subscriptions": {"email": {"marketing": {"consent": "SUBSCRIBED"}}}},
    }


def _marketing(sdk, profile_id: str):  # type: ignore[no-untyped-def]
    profile = sdk.Profiles.get_profile(profile_id, additional_fields_profile=["subscriptions"])
    return profile.data.attributes.subscriptions.email.marketing


def test_bulk_subscribe_through_a_single_opt_in_list(sdk, db, fake_lists) -> None:
    p1 = sdk.Profiles.create_profile(
        {"data": {"type": "profile", "attributes": {"email": "s1@example.com"}}}
    ).data.id
    p2 = sdk.Profiles.create_profile(
        {"data": {"type": "profile", "attributes": {"email": "s2@example.com"}}}
    ).data.id
    assert (
        sdk.Profiles.bulk_subscribe_profiles(_subscribe_body([_email_marketing("S1@example.com")], "SINGLE"))
        is None
    )
    drain(db)
    marketing = _marketing(sdk, p1)
    assert marketing.consent == "SUBSCRIBED" and marketing.can_receive_email_marketing is True
    assert marketing.custom_method_detail == "tests"
    assert _marketing(sdk, p2).consent != "SUBSCRIBED"
    assert fake_lists.members["SINGLE"] == {p1}


def test_double_opt_in_list_leaves_consent_unchanged(sdk, db, fake_lists) -> None:
    sdk.Profiles.bulk_subscribe_profiles(_subscribe_body([_email_marketing("doi2@example.com")], "DOUBLE"))
    drain(db)
    [profile] = sdk.Profiles.get_profiles(filter='equals(email,"doi2@example.com")').data
    assert _marketing(sdk, profile.id).consent == "NEVER_SUBSCRIBED"


def test_sms_and_unknown_profiles_are_created(sdk, db) -> None:
    item = {
        "type": "profile",
        "attributes": {
            "phone_number": "+16175550150",
            "subscriptions": {"sms": {"marketing": {"consent": "SUBSCRIBED"}}},
        },
    }
    sdk.Profiles.bulk_subscribe_profiles(_subscribe_body([item]))
    drain(db)
    [profile] = sdk.Profiles.get_profiles(filter='equals(phone_number,"+16175550150")').data
    subs = sdk.Profiles.get_profile(
        profile.id, additional_fields_profile=["subscriptions"]
    ).data.attributes.subscriptions
    assert subs.sms.marketing.consent == "SUBSCRIBED" and subs.sms.marketing.can_receive_sms_marketing is True


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (
            _subscribe_body(
                [
                    {
                        "type": "profile",
                        "attributes": {
                            "email": "x@example.com",
                            "subscriptions": {"email": {"marketing": {"consent": "MAYBE"}}},
                        },
                    }
                ]
            ),
            "/data/attributes/profiles/data/0/attributes/subscriptions/email/marketing/consent",
        ),
        (
            _subscribe_body([_email_marketing("ok@example.com"), _email_marketing("bad-email")]),
            "/data/attributes/profiles/data/1/attributes/email",
        ),
        (
            _subscribe_body([_email_marketing("hist@example.com")], historical_import=True),
            "/data/attributes/profiles/data/0/attributes/subscriptions/email/marketing/consented_at",
        ),
        (
            _subscribe_body(
                [
                    {
                        "type": "profile",
                        "attributes": {
                            "email": "t@example.com",
                            "subscriptions": {
                                "email": {
                                    "marketing": {
                                        "consent": "SUBSCRIBED",
                                        "consented_at": "2020-01-01T00:00:00+00:00",
                                    }
                                }
                            },
                        },
                    }
                ]
            ),
            "/data/attributes/profiles/data/0/attributes/subscriptions/email/marketing/consented_at",
        ),
        (
            _subscribe_body(
                [
                    {
                        "type": "profile",
                        "attributes": {
                            "email": "n@example.com",
                            "subscriptions": {"sms": {"marketing": {"consent": "SUBSCRIBED"}}},
                        },
                    }
                ]
            ),
            "/data/attributes/profiles/data/0/attributes/subscriptions/sms/marketing",
        ),
    ],
)
def test_bad_subscriptions_are_400_with_a_pointer(client, account, body, pointer) -> None:
    response = client.post("/api/profile-subscription-bulk-create-jobs", json=body, headers=account.headers())
    assert response.status_code == 400, response.text
    assert pointer in [e["source"].get("pointer") for e in response.json()["errors"]]


def test_unknown_list_is_404(sdk) -> None:
    with pytest.raises(ApiException) as caught:
        sdk.Profiles.bulk_subscribe_profiles(_subscribe_body([_email_marketing("l@example.com")], "NOPE"))
    assert caught.value.status == 404
    assert (
        json.loads(caught.value.body)["errors"][0]["source"]["pointer"] == "/data/relationships/list/data/id"
    )


def test_bulk_unsubscribe_global_and_list_scoped(sdk, db, client, account, fake_lists) -> None:
    sdk.Profiles.bulk_subscribe_profiles(
        _subscribe_body([_email_marketing("u1@example.com"), _email_marketing("u2@example.com")], "SINGLE")
    )
    drain(db)
    ids = {
        p.attributes.email: p.id
        for p in sdk.Profiles.get_profiles(filter="any(email,['u1@example.com','u2@example.com'])").data
    }
    fake_lists.members["SINGLE"].discard(ids["u2@example.com"])  # u2 is not on the list any more
    body = {
        "data": {
            "type": "profile-subscription-bulk-delete-job",
            "attributes": {
                "profiles": {
                    "data": [
                        {
                            "type": "profile",
                            "attributes": {
                                "email": e,
                                "subscriptions": {"email": {"marketing": {"consent": "UNSUBSCRIBED"}}},
                            },
                        }
                        for e in ("u1@example.com", "u2@example.com")
                    ]
                }
            },
            "relationships": {"list": {"data": {"type": "list", "id": "SINGLE"}}},
        }
    }
    assert sdk.Profiles.bulk_unsubscribe_profiles(body) is None
    drain(db)
    member = _marketing(sdk, ids["u1@example.com"])
    assert member.consent == "SUBSCRIBED" and [s.list_id for s in member.list_suppressions] == ["SINGLE"]
    other = _marketing(sdk, ids["u2@example.com"])
    assert other.consent == "UNSUBSCRIBED" and other.can_receive_email_marketing is False
    # The SDK refuses a wrong consent value itself; over raw HTTP it is a 400 with its pointer.
    data = body["data"]["attributes"]["profiles"]["data"][0]["attributes"]
    data["subscriptions"]["email"]["marketing"]["consent"] = "SUBSCRIBED"
    response = client.post("/api/profile-subscription-bulk-delete-jobs", json=body, headers=account.headers())
    assert response.status_code == 400
    pointer = "/data/attributes/profiles/data/0/attributes/subscriptions/email/marketing/consent"
    assert response.json()["errors"][0]["source"]["pointer"] == pointer


def test_client_subscription(client, sdk, account, fake_lists) -> None:
    body = {
        "data": {
            "type": "subscription",
            "attributes": {
                "custom_source": "footer form",
                "profile": {
                    "data": {
                        "type": "profile",
                        "attributes": {"email": "form@example.com", "first_name": "F"},
                    }
                },
            },
            "relationships": {"list": {"data": {"type": "list", "id": "SINGLE"}}},
        }
    }
    url = f"/client/subscriptions?company_id={account.public_key}"
    response = client.post(url, json=body, headers={"revision": "2026-10-15"})
    assert response.status_code == 202, response.text
    [profile] = sdk.Profiles.get_profiles(filter='equals(email,"form@example.com")').data
    marketing = _marketing(sdk, profile.id)
    assert marketing.consent == "SUBSCRIBED" and marketing.custom_method_detail == "footer form"
    del body["data"]["relationships"]
    assert client.post(url, json=body, headers={"revision": "2026-10-15"}).status_code == 400
