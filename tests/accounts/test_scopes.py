"""Key scopes, as listed in the spec's x-klaviyo-scopes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import REVISION, AccountKeys, make_key
from tidings.accounts.service import Principal, known_scopes, require_scopes
from tidings.jsonapi.errors import InvalidInput, PermissionDenied


def _get(client: TestClient, key: str) -> int:
    headers = {"Authorization": f"Klaviyo-API-Key {key}", "revision": REVISION}
    return client.get("/api/accounts", headers=headers).status_code


def test_key_without_the_scope_gets_403(client: TestClient, db, account: AccountKeys) -> None:
    key = make_key(db, account.id, scopes=["profiles:read"])
    response = client.get(
        "/api/accounts", headers={"Authorization": f"Klaviyo-API-Key {key}", "revision": REVISION}
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "permission_denied"
    assert "accounts:read" in response.json()["errors"][0]["detail"]


def test_key_with_the_scope_is_allowed(client: TestClient, db, account: AccountKeys) -> None:
    assert _get(client, make_key(db, account.id, scopes=["accounts:read"])) == 200


def test_full_access_key_is_allowed(client: TestClient, account: AccountKeys) -> None:
    assert _get(client, account.private_key) == 200


def test_write_scope_implies_read() -> None:
    principal = Principal("abcdef", "k", frozenset({"profiles:write"}))
    require_scopes(principal, ("profiles:read",))
    with pytest.raises(PermissionDenied):
        require_scopes(Principal("abcdef", "k", frozenset({"profiles:read"})), ("profiles:write",))


def test_scopes_come_from_the_spec() -> None:
    scopes = known_scopes()
    assert {"accounts:read", "profiles:read", "profiles:write", "events:write"} <= scopes


def test_unknown_scope_is_refused(db, account: AccountKeys) -> None:
    with pytest.raises(InvalidInput):
        make_key(db, account.id, scopes=["profiles:everything"])
