"""GET /api/accounts and /api/accounts/{id}, through the official SDK and plain HTTP."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from openapi_client.exceptions import NotFoundException, UnauthorizedException

from tests.conftest import REVISION, AccountKeys


def test_sdk_get_accounts_returns_the_keys_account(sdk, account: AccountKeys) -> None:
    response = sdk.Accounts.get_accounts()
    assert [item.id for item in response.data] == [account.id]
    attrs = response.data[0].attributes
    assert attrs.public_api_key == account.public_key
    assert attrs.timezone == "UTC"
    assert attrs.preferred_currency == "USD"
    assert attrs.locale == "en-US"
    assert attrs.test_account is False
    assert attrs.contact_information.organization_name == "Shop A"
    assert response.data[0].links.var_self.endswith(f"/api/accounts/{account.id}")


def test_sdk_get_account_by_id(sdk, account: AccountKeys) -> None:
    response = sdk.Accounts.get_account(account.id)
    assert response.data.id == account.id
    assert response.data.type == "account"


def test_sdk_other_accounts_id_is_not_found(sdk, other_account: AccountKeys) -> None:
    with pytest.raises(NotFoundException) as info:
        sdk.Accounts.get_account(other_account.id)
    assert info.value.data.errors[0].code == "not_found"


def test_sdk_invalid_key_is_401_with_error_document(server) -> None:
    from klaviyo_api import KlaviyoAPI

    intruder = KlaviyoAPI(api_key="pk_not_a_key", test_host=server.url, max_retries=0)
    with pytest.raises(UnauthorizedException) as info:
        intruder.Accounts.get_accounts()
    assert info.value.data.errors[0].code == "not_authenticated"


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Klaviyo-API-Key", "Token pk_x", "Bearer sometoken", "Klaviyo-API-Key pk_wrong"],
)
def test_missing_or_bad_credentials_are_401(client: TestClient, authorization: str | None) -> None:
    headers = {"revision": REVISION}
    if authorization is not None:
        headers["Authorization"] = authorization
    response = client.get("/api/accounts", headers=headers)
    assert response.status_code == 401
    error = response.json()["errors"][0]
    assert error["code"] == "not_authenticated"
    assert {"id", "status", "code", "title", "detail"} <= error.keys()


def test_public_key_on_private_api_is_401(client: TestClient, account: AccountKeys) -> None:
    response = client.get(
        "/api/accounts",
        headers={"Authorization": f"Klaviyo-API-Key {account.public_key}", "revision": REVISION},
    )
    assert response.status_code == 401
    assert "public API key" in response.json()["errors"][0]["detail"]


@pytest.mark.parametrize(
    "revision", ["2023-01-01", "2024-10-15", "2026-07-15", "2026-10-15", "2026-07-15.pre", "2031-01-01"]
)
def test_valid_revisions_are_accepted(client: TestClient, account: AccountKeys, revision: str) -> None:
    response = client.get("/api/accounts", headers=account.headers(revision))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.api+json")


@pytest.mark.parametrize(
    "revision", [None, "", "yesterday", "2026-13-01", "2026-02-30", "2022-12-31", "20261015"]
)
def test_missing_or_malformed_revision_is_400(
    client: TestClient, account: AccountKeys, revision: str | None
) -> None:
    headers = {"Authorization": f"Klaviyo-API-Key {account.private_key}"}
    if revision is not None:
        headers["revision"] = revision
    response = client.get("/api/accounts", headers=headers)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "invalid"
    assert error["source"] == {"parameter": "revision"}


def test_trailing_slash_is_accepted(client: TestClient, account: AccountKeys) -> None:
    assert client.get("/api/accounts/", headers=account.headers()).status_code == 200
    assert client.get(f"/api/accounts/{account.id}/", headers=account.headers()).status_code == 200


def test_sparse_fieldsets(client: TestClient, account: AccountKeys) -> None:
    response = client.get(
        "/api/accounts",
        params={"fields[account]": "timezone,contact_information.organization_name"},
        headers=account.headers(),
    )
    assert response.status_code == 200
    assert response.json()["data"][0]["attributes"] == {
        "timezone": "UTC",
        "contact_information": {"organization_name": "Shop A"},
    }


def test_unknown_sparse_field_is_400_pointing_at_the_parameter(
    client: TestClient, account: AccountKeys
) -> None:
    response = client.get("/api/accounts", params={"fields[account]": "nope"}, headers=account.headers())
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"parameter": "fields[account]"}


def test_filter_on_an_endpoint_without_filters_is_400(client: TestClient, account: AccountKeys) -> None:
    response = client.get("/api/accounts", params={"filter": "equals(id,'x')"}, headers=account.headers())
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"parameter": "filter"}


@pytest.mark.parametrize("path", ["/client/events", "/client/event-bulk-create", "/client/profiles"])
def test_a_nul_in_company_id_is_400_on_the_parameter(client: TestClient, path: str) -> None:
    # PostgreSQL refuses to compare text holding a NUL: the lean event path answered 500.
    headers = {"revision": "2026-10-15", "content-type": "application/json"}
    response = client.post(f"{path}?company_id=%00", content=b"{}", headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["source"] == {"parameter": "company_id"}
