"""Multi-account isolation, route by route: B gets 404 on A's resources and never sees A's data."""

from __future__ import annotations

import pytest

from tests.conftest import make_account
from tests.isolation import EXEMPT, Case, Env, Listing, discover
from tidings.app import served_operations

CASES, LISTINGS = discover()


@pytest.fixture
def env(client, db) -> Env:
    return Env(client, db, make_account(db, name="A"), make_account(db, name="B"))


def test_every_api_route_has_an_isolation_case(app) -> None:
    covered = {(c.method, c.path) for c in CASES} | {("GET", item.path) for item in LISTINGS} | set(EXEMPT)
    routes = [(method, path) for method, path, _op in served_operations(app) if path.startswith("/api/")]
    assert ("GET", "/api/accounts") in routes
    missing = [route for route in routes if route not in covered]
    assert not missing, f"routes without an isolation case: {sorted(missing)}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.path}")
def test_other_accounts_key_gets_404(env: Env, case: Case) -> None:
    params = case.setup(env)
    url = case.path.format(**params)
    body = case.body(params) if case.body else None
    response = env.client.request(case.method, url, headers=env.b.headers(), json=body)
    assert response.status_code == 404, (
        f"{case.method} {url} as B: {response.status_code} {response.text[:300]}"
    )
    assert response.json()["errors"][0]["code"] == "not_found"
    if case.unchanged is not None:
        case.unchanged(env, params)


@pytest.mark.parametrize("listing", LISTINGS, ids=lambda item: item.path)
def test_other_accounts_listing_never_shows_a(env: Env, listing: Listing) -> None:
    hidden = set(listing.setup(env))
    response = env.client.get(listing.path, params=listing.params, headers=env.b.headers())
    assert response.status_code == 200, response.text
    seen = {item["id"] for item in response.json()["data"]}
    assert not hidden & seen
