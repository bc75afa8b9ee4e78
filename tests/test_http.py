"""HTTP plumbing: cache misses at the same time share one lookup."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.conftest import AccountKeys, LiveServer
from tidings.http import _once


def test_concurrent_misses_share_one_lookup() -> None:
    calls = 0

    async def lookup() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return "Ab12Cd"

    async def burst() -> list[str]:
        return await asyncio.gather(*(_once("key", "digest", lookup) for _ in range(64)))

    assert asyncio.run(burst()) == ["Ab12Cd"] * 64
    assert calls == 1
    assert asyncio.run(burst()) == ["Ab12Cd"] * 64  # done lookups are not kept: the cache is the caller's
    assert calls == 2


def test_a_failed_lookup_fails_every_waiter_and_is_not_kept() -> None:
    async def lookup() -> str:
        await asyncio.sleep(0.01)
        raise LookupError("no such key")

    async def burst() -> list[object]:
        return await asyncio.gather(*(_once("key", "bad", lookup) for _ in range(8)), return_exceptions=True)

    assert all(isinstance(result, LookupError) for result in asyncio.run(burst()))
    with pytest.raises(LookupError):
        asyncio.run(_once("key", "bad", lookup))


# ------------------------------------------------------------------- the host of absolute links


def _links(document: dict) -> list[str]:
    """Every absolute link of a list document: its own, and each resource's and relationship's."""
    found = [link for link in document["links"].values() if link]
    for resource in document["data"]:
        found.append(resource["links"]["self"])
        for relationship in resource.get("relationships", {}).values():
            found += relationship["links"].values()
    return found


def _two_profiles(client, account: AccountKeys) -> None:  # type: ignore[no-untyped-def]
    for email in ("host-a@example.com", "host-b@example.com"):
        body = {"data": {"type": "profile", "attributes": {"email": email}}}
        assert client.post("/api/profiles", json=body, headers=account.headers()).status_code == 201


def test_links_never_follow_a_host_the_server_does_not_answer_to(
    http: httpx.Client, server: LiveServer, client, account: AccountKeys
) -> None:
    _two_profiles(client, account)
    params = {"page[size]": "1"}
    forged = http.get(
        "/api/profiles", params=params, headers={**account.headers(), "Host": "evil.example:666"}
    )
    assert forged.status_code == 200, forged.text
    links = _links(forged.json())
    assert forged.json()["links"]["next"] and any("/relationships/" in link for link in links)
    assert all(link.startswith(f"{server.url}/api/") for link in links), links  # the server's own address

    # A Host the server answers to (itself, localhost) is kept: links work through it.
    port = server.url.rsplit(":", 1)[1]
    local = http.get(
        "/api/profiles", params=params, headers={**account.headers(), "Host": f"localhost:{port}"}
    )
    assert all(link.startswith(f"http://localhost:{port}/api/") for link in _links(local.json()))
    # Nothing but a host and a port is a host: no path, no user, no second host.
    for odd in (f"localhost:{port}/x?", f"user@localhost:{port}", f"localhost:{port}, evil.example"):
        response = http.get("/api/profiles", params=params, headers={**account.headers(), "Host": odd})
        assert all(link.startswith(f"{server.url}/api/") for link in _links(response.json())), odd


@pytest.mark.parametrize(
    ("configured", "listed", "forged"),
    [
        (
            {"public_url": "https://tidings.example.com/"},
            "https://tidings.example.com",
            "https://tidings.example.com",
        ),
        ({"allowed_hosts": "tidings.example.com"}, "http://Tidings.example.com", "http://testserver"),
        ({"allowed_hosts": "*"}, "http://Tidings.example.com", "http://evil.example:666"),
    ],
)
def test_links_use_the_public_url_or_an_allowed_host(
    settings, db, account: AccountKeys, configured: dict, listed: str, forged: str
) -> None:
    from fastapi.testclient import TestClient

    from tidings.app import create_app
    from tidings.config import Settings

    changed = Settings(**{**settings.model_dump(), **configured})
    with TestClient(create_app(changed, db=db, workers=0)) as local:
        _two_profiles(local, account)
        for host, base in (("Tidings.example.com", listed), ("evil.example:666", forged)):
            response = local.get(
                "/api/profiles", params={"page[size]": "1"}, headers={**account.headers(), "Host": host}
            )
            assert all(link.startswith(f"{base}/api/") for link in _links(response.json())), host
