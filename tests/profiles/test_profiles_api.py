"""Profile endpoints through the official SDK: the acceptance steps and the write matrix."""

from __future__ import annotations

import json

import pytest
from openapi_client.exceptions import ApiException, BadRequestException, NotFoundException

PROPS = {
    "plan": "gold",
    "loyalty": {"tier": 2, "since": "2021-05-01"},
    "tags": ["early-adopter"],
    "temp": True,
}


def _create(sdk, **attributes):  # type: ignore[no-untyped-def]
    return sdk.Profiles.create_profile({"data": {"type": "profile", "attributes": attributes}}).data


def test_create_get_filter_update_upsert(sdk) -> None:
    created = _create(sdk, email="Ada+VIP@Example.com", first_name="Ada", properties=PROPS)
    assert created.id and created.attributes.email == "ada+vip@example.com"
    assert created.attributes.properties == PROPS
    fetched = sdk.Profiles.get_profile(created.id).data
    assert fetched.attributes.first_name == "Ada" and fetched.attributes.created is not None

    found = sdk.Profiles.get_profiles(filter='equals(email,"ada+vip@example.com")').data
    assert [p.id for p in found] == [created.id]
    found = sdk.Profiles.get_profiles(filter='equals(email,"ADA+vip@example.com")').data
    assert [p.id for p in found] == [created.id]

    updated = sdk.Profiles.update_profile(
        created.id,
        {
            "data": {
                "type": "profile",
                "id": created.id,
                "attributes": {"last_name": "Lovelace", "properties": {"plan": "platinum", "visits": 3}},
                "meta": {"patch_properties": {"append": {"tags": "vip"}, "unset": ["temp"]}},
            }
        },
    ).data
    expected = {
        "plan": "platinum",
        "visits": 3,
        "loyalty": {"tier": 2, "since": "2021-05-01"},
        "tags": ["early-adopter", "vip"],
    }
    for profile in (updated, sdk.Profiles.get_profile(created.id).data):
        assert profile.attributes.first_name == "Ada"
        assert profile.attributes.last_name == "Lovelace"
        assert profile.attributes.properties == expected

    info = sdk.Profiles.create_or_update_profile_with_http_info(
        {
            "data": {
                "type": "profile",
                "attributes": {"email": "ada+vip@example.com", "phone_number": "+1 617 555 0134"},
            }
        }
    )
    assert info.status_code == 200
    assert info.data.data.id == created.id
    assert info.data.data.attributes.phone_number == "+16175550134"
    assert info.data.data.attributes.last_name == "Lovelace"

    info = sdk.Profiles.create_or_update_profile_with_http_info(
        {"data": {"type": "profile", "attributes": {"email": "new@example.com"}}}
    )
    assert info.status_code == 201 and info.data.data.id != created.id


def test_null_clears_and_omitted_keeps(sdk) -> None:
    created = _create(
        sdk, email="clear@example.com", first_name="A", title="CTO", location={"city": "Boston"}
    )
    updated = sdk.Profiles.update_profile(
        created.id,
        {
            "data": {
                "type": "profile",
                "id": created.id,
                "attributes": {"title": None, "location": {"zip": "02110"}},
            }
        },
    ).data
    assert updated.attributes.title is None
    assert updated.attributes.first_name == "A"
    assert updated.attributes.location.city == "Boston" and updated.attributes.location.zip == "02110"


def test_external_id_filter_and_duplicate_conflict(sdk) -> None:
    first = _create(sdk, email="grace@example.com")
    second = _create(sdk, email="hopper@example.com", external_id="ext-1")
    found = sdk.Profiles.get_profiles(filter='equals(external_id,"ext-1")').data
    assert [p.id for p in found] == [second.id]
    for attrs, owner in (({"email": "GRACE@example.com"}, first.id), ({"external_id": "ext-1"}, second.id)):
        with pytest.raises(ApiException) as caught:
            sdk.Profiles.create_profile({"data": {"type": "profile", "attributes": attrs}})
        assert caught.value.status == 409
        error = json.loads(caught.value.body)["errors"][0]
        assert error["code"] == "duplicate_profile"
        assert error["meta"]["duplicate_profile_id"] == owner


def test_update_to_an_identifier_owned_by_another_profile_is_409(sdk) -> None:
    a = _create(sdk, email="one@example.com")
    b = _create(sdk, email="two@example.com")
    with pytest.raises(ApiException) as caught:
        sdk.Profiles.update_profile(
            b.id, {"data": {"type": "profile", "id": b.id, "attributes": {"email": "one@example.com"}}}
        )
    assert caught.value.status == 409
    assert json.loads(caught.value.body)["errors"][0]["meta"]["duplicate_profile_id"] == a.id
    assert sdk.Profiles.get_profile(b.id).data.attributes.email == "two@example.com"


def test_pagination_with_any_filter(sdk) -> None:
    ids = {_create(sdk, email=f"page{i}@example.com").id for i in range(2)}
    flt = "any(email,['page0@example.com','page1@example.com'])"
    page1 = sdk.Profiles.get_profiles(filter=flt, page_size=1)
    assert page1.links.next
    page2 = sdk.Profiles.get_profiles(filter=flt, page_size=1, page_cursor=page1.links.next)
    assert not page2.links.next
    assert {page1.data[0].id, page2.data[0].id} == ids


def test_unknown_profile_is_404_with_error_document(sdk) -> None:
    with pytest.raises(NotFoundException) as caught:
        sdk.Profiles.get_profile("01ZZZZZZZZZZZZZZZZZZZZZZZZ")
    assert caught.value.data is not None
    assert "does not exist" in caught.value.data.errors[0].detail


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"email": "not-an-email"}, "/data/attributes/email"),
        ({"phone_number": "12345"}, "/data/attributes/phone_number"),
        ({"first_name": "x" * 300, "email": "long@example.com"}, "/data/attributes/first_name"),
        (
            {"email": "many@example.com", "properties": {f"p{i}": i for i in range(401)}},
            "/data/attributes/properties",
        ),
        ({"first_name": "no identifier"}, "/data/attributes"),
    ],
)
def test_bad_input_is_a_precise_400(sdk, attributes, pointer) -> None:
    with pytest.raises(BadRequestException) as caught:
        sdk.Profiles.create_profile({"data": {"type": "profile", "attributes": attributes}})
    errors = json.loads(caught.value.body)["errors"]
    assert errors[0]["source"]["pointer"] == pointer
    found = sdk.Profiles.get_profiles(filter='equals(email,"many@example.com")').data
    assert found == []


def test_invalid_phone_beside_a_valid_email_is_a_partial_failure(client, account) -> None:
    body = {
        "data": {"type": "profile", "attributes": {"email": "partial@example.com", "phone_number": "nope"}}
    }
    response = client.post("/api/profiles", json=body, headers=account.headers())
    assert response.status_code == 201, response.text
    assert response.headers["X-Klaviyo-Partial-Failure"] == "phone_number"
    assert response.json()["data"]["attributes"]["phone_number"] is None


def test_public_key_cannot_use_api_profiles(client, account) -> None:
    response = client.get(
        "/api/profiles",
        headers={"Authorization": f"Klaviyo-API-Key {account.public_key}", "revision": "2026-10-15"},
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "not_authenticated"


def test_lists_and_segments_of_a_profile_are_empty(sdk) -> None:
    profile = _create(sdk, email="lists@example.com")
    assert sdk.Profiles.get_lists_for_profile(profile.id).data == []
    assert sdk.Profiles.get_segments_for_profile(profile.id).data == []
    assert sdk.Profiles.get_list_ids_for_profile(profile.id).data == []
    assert sdk.Profiles.get_segment_ids_for_profile(profile.id).data == []
    full = sdk.Profiles.get_profile(profile.id, include=["lists", "segments"])
    assert full.data.relationships.lists.data == []
    with pytest.raises(NotFoundException):
        sdk.Profiles.get_lists_for_profile("01ZZZZZZZZZZZZZZZZZZZZZZZZ")


def test_odd_input_is_a_precise_400_on_both_databases(client, account) -> None:
    """A lone surrogate as a property's name or value (SQLite could not encode it; PostgreSQL
    refused it with its own words), a list of lists in a filter."""
    headers = {**account.headers(), "content-type": "application/vnd.api+json"}

    def send(method: str, url: str, body: dict):  # type: ignore[no-untyped-def]
        return client.request(method, url, content=json.dumps(body).encode(), headers=headers)

    attributes = {"email": "odd@example.com", "properties": {"\ud800": 1}}
    response = send("POST", "/api/profiles", {"data": {"type": "profile", "attributes": attributes}})
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["source"] == {"pointer": "/data/attributes/properties/\\ud800"}

    created = send(
        "POST", "/api/profiles", {"data": {"type": "profile", "attributes": {"email": "odd@example.com"}}}
    )
    profile_id = created.json()["data"]["id"]
    patch = {"data": {"type": "profile", "id": profile_id, "attributes": {"properties": {"k": "a\ud800"}}}}
    response = send("PATCH", f"/api/profiles/{profile_id}", patch)
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["source"] == {"pointer": "/data/attributes/properties/k"}
    assert "surrogate" in error["detail"]

    for text in ["any(id,[['a']])", "equals(id," + "9" * 5000 + ")"]:
        response = client.get("/api/profiles", params={"filter": text}, headers=headers)
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["source"] == {"parameter": "filter"}
    response = client.get("/api/profiles", params={"page[size]": "9" * 5000}, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["source"] == {"parameter": "page[size]"}
