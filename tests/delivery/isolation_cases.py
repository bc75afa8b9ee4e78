"""Isolation cases for the tracking settings (one resource per account, its id the account's)."""

from __future__ import annotations

from tests.isolation import Case, Env, Listing


def own_settings(env: Env) -> dict[str, str]:
    body = {"data": {"type": "tracking-setting", "id": env.a.id, "attributes": {"auto_add_parameters": True}}}
    response = env.as_a("PATCH", f"/api/tracking-settings/{env.a.id}", json=body)
    assert response.status_code == 200, response.text
    return {"id": env.a.id}


def settings_unchanged(env: Env, params: dict[str, str]) -> None:
    response = env.as_a("GET", f"/api/tracking-settings/{params['id']}")
    assert response.status_code == 200
    assert response.json()["data"]["attributes"]["auto_add_parameters"] is True


CASES = [
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

LISTINGS = [Listing("/api/tracking-settings", lambda env: [own_settings(env)["id"]])]
