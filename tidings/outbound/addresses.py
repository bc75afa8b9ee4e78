"""Which URLs and addresses Tidings may reach on a user's behalf.

A user-given URL must be https. Its host must resolve only to global unicast addresses: not
private, loopback, link-local, multicast, reserved or unspecified, IPv4 or IPv6, and not an
IPv6 address that carries one of those IPv4 addresses inside (IPv4-mapped, 6to4, Teredo,
NAT64). With `TIDINGS_ALLOW_PRIVATE_URLS=true` (local development, tests) any address is
allowed, and plain http too, but only to loopback.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses it resolves to; replaceable in tests (no DNS leaves the machine).
Lookup = Callable[[str, int], Awaitable[list[str]]]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class URLRefused(ValueError):
    """The URL may not be reached; the message says why, in a sentence for the user."""


@dataclass(frozen=True)
class Policy:
    """What one kind of outbound request may do."""

    allow_private: bool = False
    timeout: float = 15.0  # seconds for the whole exchange: lookup, connect, request, response
    max_bytes: int = 1024 * 1024  # the response body
    redirects: int = 0  # redirects followed, each one checked like the first URL


@dataclass(frozen=True)
class Target:
    """A checked URL and the address to connect to (the one that was checked)."""

    url: httpx.URL
    address: IPAddress

    @property
    def connect_url(self) -> httpx.URL:
        """The URL with the host replaced by the checked address (Host and SNI keep the name)."""
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return self.url.copy_with(host=host)

    @property
    def host_header(self) -> str:
        default = {"https": 443, "http": 80}[self.url.scheme]
        port = self.url.port
        host = self.url.host if ":" not in self.url.host else f"[{self.url.host}]"
        return host if port in (None, default) else f"{host}:{port}"


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _loopback(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def refusal(address: IPAddress) -> str | None:
    """Why this address may not be reached (None: it may)."""
    if isinstance(address, ipaddress.IPv6Address) and (inner := _embedded_ipv4(address)) is not None:
        reason = refusal(inner)
        return f"{reason} (inside the IPv6 address {address})" if reason else None
    for kind, flag in (
        ("an unspecified", address.is_unspecified),
        ("a loopback", address.is_loopback),
        ("a link-local", address.is_link_local),
        ("a multicast", address.is_multicast),
        ("a reserved", address.is_reserved),
        ("a private", address.is_private or not address.is_global),
    ):
        if flag:
            return f"{address} is {kind} address"
    return None


def parse(url: str) -> httpx.URL:
    """The URL, if it is an absolute http(s) URL with a host and no credentials."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise URLRefused(f"{url!r} is not a valid URL: {exc}") from None
    if parsed.scheme not in ("https", "http"):
        raise URLRefused("The URL must start with https://.")
    if not parsed.host:
        raise URLRefused("The URL has no host.")
    if parsed.userinfo:
        raise URLRefused("The URL may not carry a user name or password.")
    return parsed


def literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def choose(url: httpx.URL, addresses: list[IPAddress], policy: Policy) -> IPAddress:
    """The address to connect to, after checking every address the host resolved to (a name
    with one refused address among good ones is refused: the next lookup may return it)."""
    if not addresses:
        raise URLRefused(f"The host {url.host} does not resolve to any address.")
    if url.scheme == "http":
        if not policy.allow_private:
            raise URLRefused("The URL must start with https://.")
        if not all(_loopback(a) for a in addresses):
            raise URLRefused("Plain http is only allowed to a loopback address; use https://.")
    if not policy.allow_private:
        for address in addresses:
            reason = refusal(address)
            if reason:
                raise URLRefused(f"The host {url.host} resolves to {reason}, which is not allowed.")
    return addresses[0]


async def system_lookup(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _default_port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


async def resolve(url: httpx.URL, lookup: Lookup) -> list[IPAddress]:
    """The host's addresses (an IP literal is its own). Raises OSError when it does not resolve."""
    if (address := literal(url.host)) is not None:
        return [address]
    found: list[IPAddress] = []
    for text in await lookup(url.host, _default_port(url)):
        address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone
        if address not in found:
            found.append(address)
    return found


async def target(url: str | httpx.URL, policy: Policy, lookup: Lookup = system_lookup) -> Target:
    """Check a URL and resolve its host once; raises URLRefused, or OSError if it does not resolve."""
    parsed = parse(str(url)) if isinstance(url, str) else url
    addresses = await resolve(parsed, lookup)
    return Target(parsed, choose(parsed, addresses, policy))


def check_now(url: str, policy: Policy, lookup: Lookup = system_lookup) -> httpx.URL:
    """Check a URL when a user gives it (create or update), from synchronous code: the same
    rules as at send time. A host that does not resolve yet passes (the sending will say so)."""
    parsed = parse(url)
    if parsed.scheme == "http" and not policy.allow_private:
        raise URLRefused("The URL must start with https://.")
    try:
        addresses = asyncio.run(resolve(parsed, lookup))
    except (OSError, UnicodeError):
        return parsed
    choose(parsed, addresses, policy)
    return parsed
