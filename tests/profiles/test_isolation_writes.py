"""Identifiers are per account: the same email in two accounts is two profiles."""

from __future__ import annotations


def test_same_email_in_two_accounts_is_two_profiles(client, account, other_account) -> None:
    body = {"data": {"type": "profile", "attributes": {"email": "shared@example.com", "first_name": "A"}}}
    a = client.post("/api/profiles", json=body, headers=account.headers())
    body["data"]["attributes"]["first_name"] = "B"
    b = client.post("/api/profiles", json=body, headers=other_account.headers())
    assert a.status_code == 201 and b.status_code == 201
    assert a.json()["data"]["id"] != b.json()["data"]["id"]
    again = client.get(f"/api/profiles/{a.json()['data']['id']}", headers=account.headers())
    assert again.json()["data"]["attributes"]["first_name"] == "A"
    upsert = {"data": {"type": "profile", "attributes": {"email": "shared@example.com", "last_name": "Z"}}}
    response = client.post("/api/profile-import", json=upsert, headers=other_account.headers())
    assert response.status_code == 200 and response.json()["data"]["id"] == b.json()["data"]["id"]
    again = client.get(f"/api/profiles/{a.json()['data']['id']}", headers=account.headers())
    assert again.json()["data"]["attributes"]["last_name"] is None


def test_client_writes_cannot_reach_another_accounts_profile(client, account, other_account) -> None:
    body = {"data": {"type": "profile", "attributes": {"email": "mine@example.com", "first_name": "A"}}}
    profile_id = client.post("/api/profiles", json=body, headers=account.headers()).json()["data"]["id"]
    attack = {"data": {"type": "profile", "id": profile_id, "attributes": {"first_name": "B"}}}
    response = client.post(
        f"/client/profiles?company_id={other_account.public_key}",
        json=attack,
        headers={"revision": "2026-10-15"},
    )
    assert response.status_code == 404
    again = client.get(f"/api/profiles/{profile_id}", headers=account.headers())
    assert again.json()["data"]["attributes"]["first_name"] == "A"
