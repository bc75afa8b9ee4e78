"""Isolation cases of the delivery routes (see tests/isolation.py)."""

from __future__ import annotations

import uuid

from tests.isolation import Case, Env, Listing

SENDS = "/api/x-tidings/message-sends"


def a_send(env: Env) -> dict[str, str]:
    body = {
        "data": {
            "type": "message-send",
            "attributes": {
                "idempotency_key": f"iso-{uuid.uuid4().hex[:8]}",
                "profile": {"email": f"iso-{uuid.uuid4().hex[:8]}@example.com"},
                "subject": "Hi",
                "html": "<p>Hi</p>",
            },
        }
    }
    response = env.as_a("POST", SENDS, json=body)
    assert response.status_code == 202, response.text
    data = response.json()["data"]
    return {"id": data["id"], "profile": data["attributes"]["profile_id"]}


def b_sends_to_a_profile(params: dict[str, str]) -> dict[str, object]:
    return {
        "data": {
            "type": "message-send",
            "attributes": {
                "idempotency_key": "iso-from-b",
                "profile": {"id": params["profile"]},
                "subject": "Hi",
                "html": "<p>Hi</p>",
            },
        }
    }


def nothing_planned_for_a(env: Env, params: dict[str, str]) -> None:
    listed = env.as_a("GET", SENDS, params={"filter": f'equals(profile_id,"{params["profile"]}")'})
    assert [item["id"] for item in listed.json()["data"]] == [params["id"]]


CASES = [
    Case("GET", SENDS + "/{id}", a_send),
    Case("POST", SENDS, a_send, body=b_sends_to_a_profile, unchanged=nothing_planned_for_a),
]
LISTINGS = [Listing(SENDS, lambda env: [a_send(env)["id"]])]


def own_settings(env: Env) -> dict[str, str]:
    body = {"data": {"type": "tracking-setting", "id": env.a.id, "attributes": {"auto_add_parameters": True}}}
    response = env.as_a("PATCH", f"/api/tracking-settings/{env.a.id}", json=body)
    assert response.status_code == 200, response.text
    return {"id": env.a.id}


def settings_unchanged(env: Env, params: dict[str, str]) -> None:
    response = env.as_a("GET", f"/api/tracking-settings/{params['id']}")
    assert response.status_code == 200
    assert response.json()["data"]["attributes"]["auto_add_parameters"] is True


CASES += [
    Case("GET", "/api/tracking-settings/{id}", own_settings),
    Case(
        "PATCH",
        "/api/tracking-settings/{id}",
        own_settings,
        body=lambda p: {
            "data": {"type": "tracking-setting", "id": p["id"], "attributes": {"auto_add_parameters": False}}
        },
        unchanged=settings_unchanged,
    ),
]

LISTINGS += [Listing("/api/tracking-settings", lambda env: [own_settings(env)["id"]])]

# The caller's own settings, with no id in the path: tests/delivery/test_sending_settings.py
# (test_one_accounts_settings_are_its_own) shows B reads its own and cannot change A's.
EXEMPT = {
    ("GET", "/api/x-tidings/sending-settings"): "the caller's own account's settings (no id to name)",
    ("PATCH", "/api/x-tidings/sending-settings"): "the caller's own account's settings; another id is a 409",
}
