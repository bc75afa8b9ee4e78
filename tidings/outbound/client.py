"""The outbound HTTP client every user-given URL goes through.

Each request resolves its host once (`addresses.target`), checks every address, and connects
to the checked one: the URL's host is replaced by that address while the Host header and the
TLS server name (SNI, and so certificate verification) keep the name. There is no second
lookup a DNS answer could change between the check and the connection. Redirects are not
followed unless the policy allows some, and then each location is checked like the first URL.
The whole exchange has one deadline and the response body a size limit. Proxies from the
environment are ignored (a proxy would make the check meaningless).
"""

from __future__ import annotations

import asyncio
import inspect
import ssl
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tidings.outbound.addresses import Lookup, Policy, Target, system_lookup, target

MAX_POOLS = 256  # host names with a connection pool at once
Sink = Callable[[bytes], Awaitable[object] | object]


class OutboundFailed(Exception):
    """The request could not be completed: unreachable, refused, too slow, too large, TLS."""


@dataclass
class OutboundResponse:
    status_code: int
    headers: httpx.Headers
    body: bytes = b""  # empty when a sink took the body
    url: str = ""  # the URL that answered (after checked redirects)
    elapsed_ms: int = 0
    redirects: list[str] = field(default_factory=list)

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def is_redirect(self) -> bool:
        return 300 <= self.status_code < 400


class OutboundClient:
    """One per event loop (an `httpx.AsyncClient` underneath, with its connection pool)."""

    def __init__(
        self,
        policy: Policy,
        *,
        lookup: Lookup = system_lookup,
        verify: ssl.SSLContext | bool = True,
        user_agent: str = "tidings",
        max_connections: int = 100,
    ) -> None:
        self.policy = policy
        self.lookup = lookup
        self._verify = verify
        self._user_agent = user_agent
        self._max_connections = max_connections
        # One pool per host name: a pooled connection is keyed by the address it reached, and
        # two names served from one address must not share a connection made with the other's
        # TLS server name.
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._closing: list[httpx.AsyncClient] = []

    def _client_for(self, host: str) -> httpx.AsyncClient:
        client = self._clients.get(host)
        if client is None:
            if len(self._clients) >= MAX_POOLS:
                oldest = next(iter(self._clients))
                self._closing.append(self._clients.pop(oldest))
            client = httpx.AsyncClient(
                verify=self._verify,
                trust_env=False,
                follow_redirects=False,
                timeout=httpx.Timeout(self.policy.timeout),
                limits=httpx.Limits(
                    max_connections=self._max_connections, max_keepalive_connections=self._max_connections
                ),
                headers={"User-Agent": self._user_agent},
            )
            self._clients[host] = client
        return client

    async def aclose(self) -> None:
        clients = [*self._clients.values(), *self._closing]
        self._clients.clear()
        self._closing.clear()
        for client in clients:
            await client.aclose()

    async def __aenter__(self) -> OutboundClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        sink: Sink | None = None,
        policy: Policy | None = None,
    ) -> OutboundResponse:
        """Make the request; raises URLRefused (the URL or a redirect may not be reached) or
        OutboundFailed. A redirect beyond the policy's allowance is returned, not followed."""
        policy = policy or self.policy
        started = time.monotonic()
        try:
            async with asyncio.timeout(policy.timeout):
                return await self._follow(method, url, headers, content, sink, policy, started)
        except TimeoutError:
            raise OutboundFailed(f"it took longer than {policy.timeout:g} seconds") from None

    async def _follow(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        content: bytes | None,
        sink: Sink | None,
        policy: Policy,
        started: float,
    ) -> OutboundResponse:
        visited: list[str] = []
        current = url
        while True:
            try:
                checked = await target(str(current), policy, self.lookup)
            except OSError as exc:
                raise OutboundFailed(f"the host does not resolve: {exc}") from None
            response = await self._once(method, checked, headers, content, sink, policy)
            response.elapsed_ms = int((time.monotonic() - started) * 1000)
            response.redirects = visited
            location = response.headers.get("location")
            if not response.is_redirect or not location or len(visited) >= policy.redirects:
                return response
            visited.append(str(current))
            current = str(checked.url.join(location))
            if method not in ("GET", "HEAD"):
                method, content = "GET", None

    async def _once(
        self,
        method: str,
        checked: Target,
        headers: Mapping[str, str] | None,
        content: bytes | None,
        sink: Sink | None,
        policy: Policy,
    ) -> OutboundResponse:
        send_headers = dict(headers or {})
        send_headers["Host"] = checked.host_header
        extensions = {"sni_hostname": checked.url.host} if checked.url.scheme == "https" else {}
        try:
            async with self._client_for(checked.url.host).stream(
                method,
                checked.connect_url,
                headers=send_headers,
                content=content,
                extensions=extensions,
            ) as response:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > policy.max_bytes:
                    raise OutboundFailed(f"the response is larger than {policy.max_bytes} bytes")
                body = bytearray()
                received = 0
                async for chunk in response.aiter_bytes():
                    received += len(chunk)
                    if received > policy.max_bytes:
                        raise OutboundFailed(f"the response is larger than {policy.max_bytes} bytes")
                    if sink is None or not response.is_success:
                        body += chunk
                    else:
                        done = sink(chunk)
                        if inspect.isawaitable(done):
                            await done
                return OutboundResponse(response.status_code, response.headers, bytes(body), str(checked.url))
        except httpx.HTTPError as exc:
            raise OutboundFailed(_describe(exc)) from None


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect: {text}"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out: {text}"
    return text


def download(url: str, policy: Policy, *, prefix: str, suffix: str = "", user_agent: str = "tidings") -> Path:
    """GET a URL into a temporary file (the caller deletes it), through the guard, from
    synchronous code. Raises URLRefused or OutboundFailed (an HTTP error status too)."""
    return asyncio.run(_download(url, policy, prefix, suffix, user_agent))


async def _download(url: str, policy: Policy, prefix: str, suffix: str, user_agent: str) -> Path:
    handle = tempfile.NamedTemporaryFile(prefix=prefix, suffix=suffix, delete=False)  # noqa: SIM115
    path = Path(handle.name)
    try:
        with handle:
            async with OutboundClient(policy, user_agent=user_agent) as client:
                response = await client.request("GET", url, sink=handle.write)
            if response.is_redirect:
                raise OutboundFailed(
                    f"it answered a redirect ({response.status_code}) after {policy.redirects}"
                )
            if response.status_code >= 400:
                raise OutboundFailed(f"it answered {response.status_code}")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
