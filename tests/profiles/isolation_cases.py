"""Isolation cases for the profile routes: a key of account B never reads or changes A's profiles."""

from __future__ import annotations

import uuid
from typing import Any

from tests.isolation import Case, Env, Listing


def a_profile(env: Env) -> dict[str, str]:
    email = f"iso-{uuid.uuid4().hex[:8]}@example.com"
    body = {"data": {"type": "profile", "attributes": {"email": email, "first_name": "A"}}}
    response = env.as_a("POST", "/api/profiles", json=body)
    assert response.status_code == 201, response.text
    return {"id": response.json()["data"]["id"], "email": email}


def two_profiles(env: Env) -> dict[str, str]:
    first, second = a_profile(env), a_profile(env)
    return {"id": first["id"], "source": second["id"], "email": first["email"]}


def unchanged(env: Env, params: dict[str, str]) -> None:
    response = env.as_a("GET", f"/api/profiles/{params['id']}")
    assert response.status_code == 200
    attributes = response.json()["data"]["attributes"]
    assert attributes["first_name"] == "A" and attributes["email"] == params["email"]


def merge_body(params: dict[str, str]) -> dict[str, Any]:
    return {
        "data": {
            "type": "profile-merge",
            "id": params["id"],
            "relationships": {"profiles": {"data": [{"type": "profile", "id": params["source"]}]}},
        }
    }


def sources_kept(env: Env, params: dict[str, str]) -> None:
    unchanged(env, params)
    assert env.as_a("GET", f"/api/profiles/{params['source']}").status_code == 200


CASES = [
    Case("GET", "/api/profiles/{id}", a_profile),
    Case("GET", "/api/profiles/{id}/conversations", a_profile),
    Case("GET", "/api/profiles/{id}/relationships/conversations", a_profile),
    Case(
        "PATCH",
        "/api/profiles/{id}",
        a_profile,
        body=lambda p: {"data": {"type": "profile", "id": p["id"], "attributes": {"first_name": "B"}}},
        unchanged=unchanged,
    ),
    Case(
        "POST",
        "/api/profile-import",
        a_profile,
        body=lambda p: {"data": {"type": "profile", "id": p["id"], "attributes": {"first_name": "B"}}},
        unchanged=unchanged,
    ),
    Case("POST", "/api/profile-merge", two_profiles, body=merge_body, unchanged=sources_kept),
    Case("GET", "/api/profiles/{id}/lists", a_profile),
    Case("GET", "/api/profiles/{id}/relationships/lists", a_profile),
    Case("GET", "/api/profiles/{id}/segments", a_profile),
    Case("GET", "/api/profiles/{id}/relationships/segments", a_profile),
]

LISTINGS = [
    Listing("/api/profiles", lambda env: [a_profile(env)["id"]]),
]

EXEMPT = {
    ("POST", "/api/profiles"): (
        "creates a profile in the caller's own account; tests/profiles/test_isolation_writes.py shows "
        "that B creating A's email makes B's own profile and leaves A's untouched"
    ),
}


def a_merge(env: Env) -> dict[str, str]:
    params = two_profiles(env)
    response = env.as_a("POST", "/api/profile-merge", json=merge_body(params))
    assert response.status_code == 201, response.text
    merges = env.as_a("GET", "/api/x-tidings/profile-merges").json()["data"]
    return {"id": merges[0]["id"], "profile": params["id"]}


def merge_kept(env: Env, params: dict[str, str]) -> None:
    response = env.as_a("GET", f"/api/x-tidings/profile-merges/{params['id']}")
    assert response.json()["data"]["attributes"]["status"] == "merged"


CASES += [
    Case("GET", "/api/x-tidings/profile-merges/{id}", a_merge),
    Case(
        "POST",
        "/api/x-tidings/profile-unmerges",
        a_merge,
        body=lambda p: {"data": {"type": "profile-unmerge", "attributes": {"merge_id": p["id"]}}},
        unchanged=merge_kept,
    ),
]
LISTINGS += [Listing("/api/x-tidings/profile-merges", lambda env: [a_merge(env)["id"]])]


def a_token(env: Env) -> dict[str, str]:
    params = a_profile(env)
    token = f"tok-{uuid.uuid4().hex[:8]}"
    body = {
        "data": {
            "type": "push-token",
            "attributes": {
                "token": token,
                "platform": "android",
                "vendor": "fcm",
                "profile": {"data": {"type": "profile", "id": params["id"], "attributes": {}}},
            },
        }
    }
    response = env.as_a("POST", "/api/push-tokens", json=body)
    assert response.status_code == 202, response.text
    [item] = env.as_a("GET", f"/api/profiles/{params['id']}/push-tokens").json()["data"]
    return {"id": item["id"], "profile": params["id"], "token": token}


def token_kept(env: Env, params: dict[str, str]) -> None:
    assert env.as_a("GET", f"/api/push-tokens/{params['id']}").status_code == 200


def token_for_profile(params: dict[str, str]) -> dict[str, Any]:
    return {
        "data": {
            "type": "push-token",
            "attributes": {
                "token": "b-token",
                "platform": "ios",
                "vendor": "apns",
                "profile": {"data": {"type": "profile", "id": params["id"], "attributes": {}}},
            },
        }
    }


def deletion_of(params: dict[str, str]) -> dict[str, Any]:
    profile = {"data": {"type": "profile", "id": params["id"], "attributes": {}}}
    return {"data": {"type": "data-privacy-deletion-job", "attributes": {"profile": profile}}}


CASES += [
    Case("GET", "/api/push-tokens/{id}", a_token),
    Case("DELETE", "/api/push-tokens/{id}", a_token, unchanged=token_kept),
    Case("GET", "/api/push-tokens/{id}/profile", a_token),
    Case("GET", "/api/push-tokens/{id}/relationships/profile", a_token),
    Case("GET", "/api/profiles/{id}/push-tokens", a_profile),
    Case("GET", "/api/profiles/{id}/relationships/push-tokens", a_profile),
    Case("POST", "/api/push-tokens", a_profile, body=token_for_profile, unchanged=unchanged),
    Case("POST", "/api/data-privacy-deletion-jobs", a_profile, body=deletion_of, unchanged=unchanged),
]
LISTINGS += [Listing("/api/push-tokens", lambda env: [a_token(env)["id"]])]
