"""The outbound guard: which addresses it refuses, that it connects to the address it checked
(TLS still verified for the name), that redirects are checked hop by hop, and that every
place Tidings reaches a user-given URL goes through it."""

from __future__ import annotations

import asyncio
import http.server
import ipaddress
import re
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.conftest import ROOT, AccountKeys
from tidings.catalogs import feed_runs, sync
from tidings.catalogs import jobs as catalog_jobs
from tidings.catalogs.feed_runs import DownloadError
from tidings.config import Settings, get_settings
from tidings.jobs.registry import JobContext
from tidings.jsonapi.errors import InvalidInput
from tidings.outbound import client as outbound
from tidings.outbound.addresses import Policy, URLRefused, check_now, refusal, target
from tidings.outbound.client import OutboundClient, OutboundFailed
from tidings.web_feeds import jobs as web_feed_jobs
from tidings.web_feeds import service as feeds_service

STRICT = Policy(allow_private=False)
LOCAL = Policy(allow_private=True, timeout=5, redirects=5)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.251", "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.2.1",
        "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
        "::ffff:169.254.169.254", "2002:7f00:1::1", "2002:a00:1::1", "64:ff9b::a00:1", "2001:db8::1",
    ],
)  # fmt: skip
def test_addresses_that_are_refused(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "2a00:1450:4001::200e"]
)
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def _lookup(table: dict[str, list[str]], calls: list[str] | None = None):  # type: ignore[no-untyped-def]
    async def lookup(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in table:
            raise OSError(f"{host} does not resolve")
        return table[host]

    return lookup


def test_a_name_is_refused_if_any_of_its_addresses_is() -> None:
    lookup = _lookup({"mixed.test": ["93.184.216.34", "10.0.0.7"], "good.test": ["93.184.216.34"]})
    with pytest.raises(URLRefused, match=r"10\.0\.0\.7 is a private address"):
        asyncio.run(target("https://mixed.test/hook", STRICT, lookup))
    checked = asyncio.run(target("https://good.test/hook", STRICT, lookup))
    assert str(checked.address) == "93.184.216.34"
    assert str(checked.connect_url) == "https://93.184.216.34/hook" and checked.host_header == "good.test"


def test_schemes_and_plain_http() -> None:
    for url in ("http://93.184.216.34/", "ftp://93.184.216.34/", "file:///etc/passwd", "//x/y"):
        with pytest.raises(URLRefused, match="https://"):
            check_now(url, STRICT)
    with pytest.raises(URLRefused, match="loopback"):
        check_now("http://10.0.0.1/", Policy(allow_private=True))
    assert check_now("http://127.0.0.1:8080/", Policy(allow_private=True)).port == 8080
    assert check_now("https://10.0.0.1/", Policy(allow_private=True)).host == "10.0.0.1"
    with pytest.raises(URLRefused, match="loopback address"):
        check_now("https://[::1]/", STRICT)


# ------------------------------------------------------------------ the address checked is the one reached


@pytest.fixture
def tls_server() -> Iterator[tuple[int, ssl.SSLContext, list[str]]]:
    """An https server on 127.0.0.1 with a certificate for `hooks.test` only."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("hooks.test").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    hosts: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

        def do_GET(self) -> None:
            hosts.append(self.headers["Host"])
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], client_context, hosts
    server.shutdown()
    server.server_close()


def test_it_connects_to_the_checked_address_with_the_names_tls_and_host(tls_server) -> None:  # type: ignore[no-untyped-def]
    port, trust, hosts = tls_server
    calls: list[str] = []
    lookup = _lookup({"hooks.test": ["127.0.0.1"]}, calls)

    async def go() -> tuple[int, bytes]:
        async with OutboundClient(LOCAL, lookup=lookup, verify=trust) as client:
            response = await client.request("GET", f"https://hooks.test:{port}/x")
            return response.status_code, response.body

    # `hooks.test` resolves nowhere but through the guard's lookup, once; the certificate is
    # valid for that name only, so the TLS handshake used it (SNI) while connecting to 127.0.0.1.
    assert asyncio.run(go()) == (200, b"ok")
    assert calls == ["hooks.test"]
    assert hosts == [f"hooks.test:{port}"]


def test_a_certificate_for_another_name_is_refused(tls_server) -> None:  # type: ignore[no-untyped-def]
    port, trust, _hosts = tls_server
    lookup = _lookup({"other.test": ["127.0.0.1"]})

    async def go() -> None:
        async with OutboundClient(LOCAL, lookup=lookup, verify=trust) as client:
            await client.request("GET", f"https://other.test:{port}/x")

    with pytest.raises(OutboundFailed):
        asyncio.run(go())


# ------------------------------------------------------------------ redirects


@pytest.fixture
def redirector() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

        def do_GET(self) -> None:
            targets = {
                "/to-private": "http://10.0.0.1/feed.json",
                "/to-file": "file:///etc/passwd",
                "/hop": "/feed.json",
                "/loop": "/loop",
            }
            if self.path in targets:
                self.send_response(302)
                self.send_header("Location", targets[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = b'[{"id": "1", "title": "t", "description": "d", "link": "https://shop.example.com/1"}]'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_each_redirect_is_checked_like_the_first_url(redirector: str) -> None:
    path = outbound.download(f"{redirector}/hop", LOCAL, prefix="t-")
    assert b"shop.example.com" in path.read_bytes()
    path.unlink()
    with pytest.raises(URLRefused, match="loopback"):  # http to 10.0.0.1: refused even with the setting
        outbound.download(f"{redirector}/to-private", LOCAL, prefix="t-")
    with pytest.raises(URLRefused, match="https://"):
        outbound.download(f"{redirector}/to-file", LOCAL, prefix="t-")
    with pytest.raises(OutboundFailed, match="redirect"):
        outbound.download(f"{redirector}/loop", LOCAL, prefix="t-")


# ------------------------------------------------------------------ every entry point, with a private address


def test_feed_entry_points_refuse_a_private_address(
    db, account: AccountKeys, monkeypatch, redirector: str
) -> None:  # type: ignore[no-untyped-def]
    url = f"{redirector}/feed.json"
    with db.write() as session, pytest.raises(URLRefused, match="https://"):  # `tidings catalog feed set`
        sync.set_feed(session, account.id, url, 3600, allow_private=False)
    with db.write() as session, pytest.raises(URLRefused, match="loopback address"):
        sync.set_feed(session, account.id, "https://127.0.0.1/feed.json", 3600, allow_private=False)
    with pytest.raises(ValueError, match="https://"):  # `tidings catalog sync URL`
        sync.open_source(url, allow_private=False)
    with pytest.raises(DownloadError, match="https://"):
        feed_runs.download(url, max_bytes=10_000, timeout=5, allow_private=False)

    # The scheduled download, as its job runs it, with the production setting.
    with db.write() as session:
        sync.set_feed(session, account.id, url, 3600, allow_private=True)
    monkeypatch.setenv("TIDINGS_ALLOW_PRIVATE_URLS", "false")
    get_settings.cache_clear()
    try:
        with db.write() as session:
            context = JobContext("job-1", account.id, sync.SYNC_JOB, {"url": url}, 1)
            catalog_jobs.sync_feed(session, context)
        with db.read() as session:
            (feed,) = sync.list_feeds(session, account.id)
            assert (
                feed.last_status == "failed: could not download the feed: The URL must start with https://."
            )
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_web_feed_entry_points_refuse_a_private_address(db, account: AccountKeys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A web feed's URL is checked when it is given (a 400 at its pointer) and again by the refresh
    job, with the production setting: a private URL never reaches the network."""
    strict = Settings(allow_private_urls=False)
    for url, reason in (
        ("https://10.0.0.1/feed.json", "private address"),
        ("https://127.0.0.1/feed.json", "loopback address"),
        ("https://169.254.169.254/latest/meta-data", "address"),
        ("http://127.0.0.1:9/feed.json", "https://"),
    ):
        with db.write() as session, pytest.raises(InvalidInput, match=reason) as refused:
            feeds_service.create_feed(
                session, strict, account.id, name="Private", url=url, method="get", content_type="json"
            )
        assert refused.value.pointer == "/data/attributes/url"
    assert "private address" in (
        feeds_service.fetch("https://10.0.0.1/f.json", "get", "json", strict).error or ""
    )

    # The scheduled refresh, as its job runs it, with the production setting.
    with db.write() as session:
        feed = feeds_service.create_feed(
            session,
            Settings(allow_private_urls=True),
            account.id,
            name="Was allowed",
            url="http://127.0.0.1:9/feed.json",
            method="get",
            content_type="json",
        )
        payload = {
            "feed_id": feed.id,
            "generation": feed.generation,
            "url": feed.url,
            "request_method": "get",
            "content_type": "json",
        }
    monkeypatch.setenv("TIDINGS_ALLOW_PRIVATE_URLS", "false")
    get_settings.cache_clear()
    try:
        with db.write() as session:
            web_feed_jobs.refresh_feed(
                session, JobContext("job-1", account.id, feeds_service.REFRESH_JOB, payload, 1)
            )
        with db.read() as session:
            stored = feeds_service.get_feed(session, account.id, feed.id)
            assert stored.status == "disabled" and "https://" in (stored.last_error or "")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_no_module_reaches_the_network_around_the_guard() -> None:
    """HTTP clients are made in the guard only; delivery providers (operator-configured URLs:
    Twilio, FCM, APNs) are the one exception."""
    allowed = {Path("tidings/outbound/client.py")}
    pattern = re.compile(r"httpx\.(Async)?Client\(|urlopen\(|http\.client\.|aiohttp|requests\.(get|post)")
    offenders = []
    for path in (ROOT / "tidings").rglob("*.py"):
        relative = path.relative_to(ROOT)
        if relative in allowed or relative.parts[:3] == ("tidings", "delivery", "providers"):
            continue
        if pattern.search(path.read_text()):
            offenders.append(str(relative))
    assert offenders == []
