"""Push tokens, the /client profile writes, data privacy deletion and property types."""

from __future__ import annotations

import pytest
from openapi_client.exceptions import NotFoundException
from sqlalchemy import select
from structlog.testing import capture_logs

from tests.profiles.factories import add_events, make_profile, subscribe
from tidings.events.tables import Event
from tidings.jobs.worker import drain
from tidings.profiles import property_types, service
from tidings.profiles.identity import Source
from tidings.profiles.tables import Profile, ProfileTombstone


def _token_body(token: str, **profile: object) -> dict:
    return {
        "data": {
            "type": "push-token",
            "attributes": {
                "token": token,
                "platform": "ios",
                "vendor": "apns",
                "enablement_status": "AUTHORIZED",
                "device_metadata": {"device_id": "d1", "os_name": "ios"},
                "profile": {"data": {"type": "profile", "attributes": profile}},
            },
        }
    }


def test_push_tokens_through_the_sdk(sdk) -> None:
    assert sdk.Profiles.create_push_token(_token_body("tok-1", email="push@example.com")) is None
    [profile] = sdk.Profiles.get_profiles(filter='equals(email,"push@example.com")').data
    tokens = sdk.Profiles.get_push_tokens().data
    assert [t.attributes.token for t in tokens] == ["tok-1"]
    token = tokens[0]
    assert token.attributes.platform == "ios" and token.attributes.vendor == "apns"
    assert sdk.Profiles.get_push_token(token.id).data.attributes.token == "tok-1"
    assert [t.id for t in sdk.Profiles.get_push_tokens_for_profile(profile.id).data] == [token.id]
    assert [t.id for t in sdk.Profiles.get_push_token_ids_for_profile(profile.id).data] == [token.id]
    assert sdk.Profiles.get_profile_for_push_token(token.id).data.id == profile.id
    assert sdk.Profiles.get_profile_id_for_push_token(token.id).data.id == profile.id
    found = sdk.Profiles.get_push_tokens(filter=f'equals(profile.id,"{profile.id}")').data
    assert [t.id for t in found] == [token.id]
    included = sdk.Profiles.get_profile(profile.id, include=["push-tokens"])
    assert [r.id for r in included.data.relationships.push_tokens.data] == [token.id]
    subs = sdk.Profiles.get_profile(profile.id, additional_fields_profile=["subscriptions"])
    assert subs.data.attributes.subscriptions.mobile_push.marketing.can_receive_push_marketing is True
    sdk.Profiles.delete_push_token(token.id)
    assert sdk.Profiles.get_push_tokens().data == []
    with pytest.raises(NotFoundException):
        sdk.Profiles.get_push_token(token.id)


def test_client_profile_upserts_but_never_changes_identifiers(client, account) -> None:
    url = f"/client/profiles?company_id={account.public_key}"
    headers = {"revision": "2026-10-15"}
    body = {"data": {"type": "profile", "attributes": {"email": "c@example.com", "first_name": "C"}}}
    assert client.post(url, json=body, headers=headers).status_code == 202
    body = {
        "data": {
            "type": "profile",
            "attributes": {"email": "c@example.com", "phone_number": "+16175550110", "last_name": "L"},
        }
    }
    response = client.post(url, json=body, headers=headers)
    assert response.status_code == 202
    assert response.headers["X-Klaviyo-Partial-Failure"] == "phone_number"
    found = client.get(
        "/api/profiles", params={"filter": 'equals(email,"c@example.com")'}, headers=account.headers()
    ).json()["data"]
    assert len(found) == 1
    attributes = found[0]["attributes"]
    assert (
        attributes["first_name"] == "C"
        and attributes["last_name"] == "L"
        and attributes["phone_number"] is None
    )
    bad = client.post(
        url, json={"data": {"type": "profile", "attributes": {"email": "nope"}}}, headers=headers
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["source"]["pointer"] == "/data/attributes/email"
    token = client.post(
        f"/client/push-tokens?company_id={account.public_key}",
        json=_token_body("t2", email="c@example.com"),
        headers=headers,
    )
    assert token.status_code == 202
    unregister = {
        "data": {
            "type": "push-token-unregister",
            "attributes": {
                "token": "t2",
                "platform": "ios",
                "profile": {"data": {"type": "profile", "attributes": {"email": "c@example.com"}}},
            },
        }
    }
    response = client.post(
        f"/client/push-token-unregister?company_id={account.public_key}", json=unregister, headers=headers
    )
    assert response.status_code == 202
    tokens = client.get("/api/push-tokens", headers=account.headers()).json()["data"]
    assert [t["attributes"]["enablement_status"] for t in tokens] == ["UNAUTHORIZED"]


def test_privacy_deletion_deletes_redacts_and_keeps_a_tombstone(sdk, db, account) -> None:
    keep = sdk.Profiles.create_profile(
        {"data": {"type": "profile", "attributes": {"email": "keep@example.com"}}}
    )
    gone = sdk.Profiles.create_profile(
        {"data": {"type": "profile", "attributes": {"email": "gone@example.com", "first_name": "G"}}}
    )
    add_events(db, account.id, gone.data.id, "o1")
    add_events(db, account.id, keep.data.id, "o2")
    subscribe(db, account.id, gone.data.id)
    body = {
        "data": {
            "type": "data-privacy-deletion-job",
            "attributes": {
                "profile": {"data": {"type": "profile", "attributes": {"email": "GONE@example.com"}}}
            },
        }
    }
    assert sdk.Data_Privacy.request_profile_deletion(body) is None
    drain(db)
    with pytest.raises(NotFoundException):
        sdk.Profiles.get_profile(gone.data.id)
    assert sdk.Profiles.get_profile(keep.data.id).data.id == keep.data.id
    with db.read() as session:
        events = {
            e.profile_id: e
            for e in session.execute(select(Event).where(Event.account_id == account.id)).scalars()
        }
        tomb = session.get(ProfileTombstone, (account.id, gone.data.id))
    assert events[gone.data.id].properties == {"$redacted": True}
    assert events[keep.data.id].properties["uid"] == "o2"
    assert tomb is not None and tomb.email_sha256 and "gone" not in str(tomb.email_sha256)


@pytest.mark.parametrize(
    "attributes",
    [
        {"email": "a@example.com", "phone_number": "+16175550111"},
        {},
        {"email": "not-an-email"},
    ],
)
def test_privacy_deletion_needs_exactly_one_valid_identifier(client, account, attributes) -> None:
    body = {
        "data": {
            "type": "data-privacy-deletion-job",
            "attributes": {"profile": {"data": {"type": "profile", "attributes": attributes}}},
        }
    }
    response = client.post("/api/data-privacy-deletion-jobs", json=body, headers=account.headers())
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"]["pointer"].startswith("/data/attributes/profile/data")


def test_property_types_follow_klaviyos_rules(sdk, db, account) -> None:
    sdk.Profiles.create_profile(
        {
            "data": {
                "type": "profile",
                "attributes": {
                    "email": "types@example.com",
                    "properties": {
                        "signup": "2024-05-01",
                        "birthday": "05/01/1990 10:30",
                        "vip": True,
                        "opted": "true",
                        "score": 3.5,
                        "tags": ["a"],
                        "note": "hello",
                        "nested": {"a": 1},
                    },
                },
            }
        }
    )
    with db.read() as session:
        types = property_types.types(session, account.id)
    assert types == {
        "signup": "date",
        "birthday": "date",
        "vip": "boolean",
        "opted": "boolean",
        "score": "number",
        "tags": "list",
        "note": "string",
        "nested": "object",
    }
    with db.read() as session:
        stored = session.execute(select(Profile).where(Profile.account_id == account.id)).scalar_one()
    assert stored.properties["nested"] == {"a": 1}  # stored as sent


def test_deletion_follows_a_merge_made_after_the_request(sdk, db, account) -> None:
    from tests.profiles.factories import resolve
    from tidings.profiles.identity import ProfileInput

    a = sdk.Profiles.create_profile(
        {"data": {"type": "profile", "attributes": {"email": "dm@example.com"}}}
    ).data.id
    b = sdk.Profiles.create_profile(
        {"data": {"type": "profile", "attributes": {"phone_number": "+16175550160"}}}
    ).data.id
    body = {
        "data": {
            "type": "data-privacy-deletion-job",
            "attributes": {"profile": {"data": {"type": "profile", "id": b, "attributes": {}}}},
        }
    }
    sdk.Data_Privacy.request_profile_deletion(body)
    resolve(
        db, account.id, ProfileInput(email="dm@example.com", phone_number="+16175550160")
    )  # b merges into a
    drain(db)
    with pytest.raises(NotFoundException):
        sdk.Profiles.get_profile(a)
    assert sdk.Profiles.get_profiles(filter='equals(email,"dm@example.com")').data == []


def test_a_profile_block_whose_properties_are_not_saved_says_so_in_the_log(db, account) -> None:
    """A push token or a subscription goes on when its profile block would pass 400 properties;
    what was not saved is logged with the account and the profile."""
    pid = make_profile(db, account.id, email="full@example.com")
    with db.write() as session:
        session.get(Profile, (account.id, pid)).properties = {f"p{i}": i for i in range(400)}
    with capture_logs() as logs, db.write() as session:
        result = service.resolve_block(
            session,
            account.id,
            {"email": "full@example.com", "properties": {"Loyalty": "gold"}},
            profile_id=None,
            meta=None,
            source=Source.CLIENT,
            pointer="/data/attributes/profile/data/attributes",
        )
    assert result.profile_id == pid and result.error
    [logged] = [entry for entry in logs if entry["event"] == "profiles.properties_not_saved"]
    assert logged["account_id"] == account.id and logged["profile_id"] == pid and "Loyalty" in logged["error"]
