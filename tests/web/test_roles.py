"""Roles as scopes: a signed-in person may use exactly what their role allows, on the same /api
as integrations. One case per role over the same requests."""

from __future__ import annotations

import pytest

from tests.conftest import make_account
from tests.web.helpers import browser, make_user, sign_in
from tidings.web import roles

REQUESTS = {
    "send": (
        "POST",
        "/api/campaign-send-jobs",
        {"data": {"type": "campaign-send-job", "id": "01HZZZZZZZZZZZZZZZZZZZZZZZ"}},
    ),
    "read_profiles": ("GET", "/api/profiles", None),
    "write_list": ("POST", "/api/lists", {"data": {"type": "list", "attributes": {"name": "Role list"}}}),
    "read_keys": ("GET", "/api/x-tidings/app/api-keys", None),
    "read_users": ("GET", "/api/x-tidings/app/users", None),
    "write_template": (
        "POST",
        "/api/templates",
        {
            "data": {
                "type": "template",
                "attributes": {"name": "Role template", "editor_type": "CODE", "html": "<p>hi</p>"},
            }
        },
    ),
}
EVERYTHING = set(REQUESTS)

# What each role may do (the handler answers: 2xx, or 404 for the send job's unknown campaign);
# everything else is a 403.
ALLOWED = {
    "owner": EVERYTHING,
    "admin": EVERYTHING,
    "manager": EVERYTHING - {"read_keys", "read_users"},
    "analyst": {"read_profiles"},
    "campaign_coordinator": {"send", "read_profiles", "write_template"},
    "content_creator": {"write_template"},
    "support": {"read_profiles"},
}


def test_every_role_is_covered() -> None:
    assert set(ALLOWED) == set(roles.ROLES)


@pytest.mark.parametrize("role", roles.ROLES)
def test_a_role_may_use_what_it_allows_and_nothing_else(app, db, role: str) -> None:
    account = make_account(db, name=f"Role {role}")
    email = make_user(db, account.id, role)
    with browser(app) as client:
        sign_in(client, email)
        for name, (method, path, body) in REQUESTS.items():
            response = client.request(method, path, json=body)
            if name in ALLOWED[role]:
                assert response.status_code in (200, 201, 202, 404), (
                    f"{role} {method} {path}: {response.text}"
                )
                if response.status_code == 404:
                    assert name == "send"
            else:
                assert response.status_code == 403, f"{role} {method} {path}: {response.text}"
                assert response.json()["errors"][0]["code"] == "permission_denied"


def test_a_content_creator_cannot_send_a_campaign_or_read_api_keys(app, db) -> None:
    account = make_account(db, name="Creator")
    email = make_user(db, account.id, "content_creator")
    with browser(app) as client:
        sign_in(client, email)
        send = client.post("/api/campaign-send-jobs", json={"data": {"type": "campaign-send-job", "id": "x"}})
        assert send.status_code == 403
        assert "content creator" in send.json()["errors"][0]["detail"]
        assert client.get("/api/x-tidings/app/api-keys").status_code == 403
        me = client.get("/api/x-tidings/app/me").json()["data"]["attributes"]
        assert "send_campaign" in me["denied_operations"]
        assert "campaigns:write" in me["scopes"]  # writing a campaign is allowed, sending it is not
