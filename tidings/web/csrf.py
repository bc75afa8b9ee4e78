"""Cross-site request protection for cookie-authenticated requests: Fetch Metadata, no tokens.

The scheme of Go's `net/http.CrossOriginProtection` (1.25): safe methods pass; an unsafe one
passes when `Sec-Fetch-Site` is `same-origin` or `none`; any other value is refused; without it,
an `Origin` must name this host; with neither header it is not a browser (no cookie would make
it dangerous) and passes. Requests with an `Authorization` header never get here (a key, not a
cookie). Defence in depth: a cookie-authenticated unsafe request with a body must be JSON, which
an HTML form cannot send."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from tidings.jsonapi.errors import PermissionDenied, UnsupportedMediaType

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
JSON_TYPES = ("application/json", "application/vnd.api+json")


def check(method: str, headers: Mapping[str, str]) -> None:
    if method.upper() in SAFE_METHODS:
        return
    site = headers.get("sec-fetch-site")
    origin = headers.get("origin")
    if site is not None:
        if site not in ("same-origin", "none"):
            raise PermissionDenied("Cross-site request refused (Sec-Fetch-Site: " + site[:40] + ").")
    elif origin is not None:
        host = headers.get("host", "")
        if origin == "null" or urlsplit(origin).netloc.lower() != host.lower():
            raise PermissionDenied("Cross-origin request refused (Origin does not match Host).")
    content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    length = headers.get("content-length")
    if content_type and content_type not in JSON_TYPES:
        raise UnsupportedMediaType("Requests authenticated by a session cookie must send JSON.")
    if not content_type and length not in (None, "0"):
        raise UnsupportedMediaType("Requests authenticated by a session cookie must send JSON.")
