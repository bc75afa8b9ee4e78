"""The base of absolute links (`links.self`, `next`, `related`): never a Host the server was not
told it answers to.

A link takes its host to whoever follows it. Built from any Host header, a request sent with
`Host: evil.example` gets links to evil.example, which is harmless in an API answer and a
phishing link once messages carry them. So: `TIDINGS_PUBLIC_URL` when set; else the request's
Host when its name is allowed (`TIDINGS_ALLOWED_HOSTS`; unset: localhost, 127.0.0.1, ::1 and the
address the connection arrived at); else that address, which the server knows without asking
the client.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import structlog
from starlette.types import Scope

log = structlog.get_logger("tidings.http")

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
ANY_HOST = "*"
_HOST = re.compile(r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9.-]+))(?::[0-9]{1,5})?")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_warned = False


def host_name(header: str) -> str | None:
    """The name in a Host header (`[::1]:8080` -> `::1`), or None when it is not a plain host and
    port (a path, a user, spaces: nothing a link may carry)."""
    match = _HOST.fullmatch(header)
    if match is None:
        return None
    return (match["v6"] or match["name"]).lower()


def _server_name(scope: Scope) -> str | None:
    server = scope.get("server")
    return str(server[0]).lower() if server else None


def _own_address(scope: Scope) -> str:
    """The address the connection arrived at (the ASGI server's, not the client's words)."""
    scheme = scope.get("scheme", "http")
    server = scope.get("server")
    if not server:
        return f"{scheme}://localhost"
    name, port = str(server[0]), server[1]
    if ":" in name:
        name = f"[{name}]"
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{name}"
    return f"{scheme}://{name}:{port}"


def allowed(name: str, scope: Scope, allowed_hosts: Sequence[str]) -> bool:
    if allowed_hosts:
        return ANY_HOST in allowed_hosts or name in allowed_hosts
    return name in LOCAL_HOSTS or name == _server_name(scope)


def link_base(scope: Scope, public_url: str | None, allowed_hosts: Sequence[str]) -> str:
    """The scheme and authority absolute links start with (no trailing slash)."""
    if public_url:
        return public_url.rstrip("/")
    host = next((value.decode("latin-1") for key, value in scope.get("headers", []) if key == b"host"), None)
    if host is None:
        return _own_address(scope)
    name = host_name(host)
    if name is not None and allowed(name, scope, allowed_hosts):
        return f"{scope.get('scheme', 'http')}://{host}"
    base = _own_address(scope)
    _warn_once(host, base)
    return base


def _warn_once(host: str, base: str) -> None:
    global _warned
    if not _warned:  # once a process: a client may send any Host, as often as it likes
        _warned = True
        log.warning(
            "host_not_allowed",
            host=host[:100],
            links_on=base,
            hint="set TIDINGS_PUBLIC_URL (or add the host to TIDINGS_ALLOWED_HOSTS)",
        )
