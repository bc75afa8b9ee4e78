"""Open and click tracking of an email's HTML: signed redirect links and an open pixel.

`instrument` rewrites every http(s) link of a rendered email into `/t/c/<token>` and adds a
1x1 pixel `/t/o/<token>.gif` before `</body>`. A token is signed (HMAC through itsdangerous,
with the installation's secret) and carries the account, the send (the ledger row's id) and,
for a click, the link's index and its destination: the redirect needs no lookup, and a token
that was not signed here, or was altered, is refused (a click answers 404, never a redirect to
an unsigned address: no open redirect).

Links left as they are:
- Tidings' own recipient pages (`tidings.templates.links.PAGES`: unsubscribe, preferences,
  web view), whose tokens already say who the recipient is, and a link already tracked;
- anything but http(s): `mailto:`, `tel:`, `#anchors`, relative links;
- a link the template marks with the attribute `data-no-track` (`<a data-no-track href=...>`),
  the convention SparkPost (`data-msys-clicktrack="0"`) and Customer.io (`class="untracked"`)
  follow in their own words; Klaviyo documents no per-link switch, so the name is ours.
UTM parameters (the account's tracking settings, resolved per message by
`tracking_settings.utm_parameters`) are added to every tracked destination, never replacing
a parameter the URL already has.
"""

from __future__ import annotations

import hmac
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from hashlib import sha256
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from itsdangerous import BadSignature, Signer
from itsdangerous.encoding import base64_decode, base64_encode
from sqlalchemy.orm import Session

from tidings.config import DEFAULT_PUBLIC_URL, Settings
from tidings.templates.links import PAGES, instance_secret

OPEN_PATH = "/t/o/"
CLICK_PATH = "/t/c/"
NO_TRACK = "data-no-track"

# Every <a> and <area> start tag, and the href in one (quoted either way, or bare).
_TAG = re.compile(r"<(?:a|area)\b[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"""(\shref\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
_NO_TRACK = re.compile(r"\s" + NO_TRACK + r"(?:[\s=/>]|$)", re.IGNORECASE)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


@dataclass(frozen=True)
class OpenClaims:
    account_id: str
    send_id: str


@dataclass(frozen=True)
class ClickClaims:
    account_id: str
    send_id: str
    link: int
    url: str


class TrackingSigner:
    """Signs and reads tracking tokens; one per process (the secret and the public base URL)."""

    def __init__(self, secret: str, public_url: str | None = None) -> None:
        self.base = (public_url or DEFAULT_PUBLIC_URL).rstrip("/")
        # A signer, not a serializer: a serializer tries zlib on every token, which cost more than
        # the rest of a message's tracking together (a dozen links a message).
        self._opens = Signer(secret, salt="tidings.track.open", key_derivation="hmac", digest_method=sha256)
        self._clicks = Signer(secret, salt="tidings.track.click", key_derivation="hmac", digest_method=sha256)
        # Tokens are written here with each signer's derived key, kept (itsdangerous derives it
        # again for every token, an HMAC as dear as the signature): the same bytes as
        # `Signer.sign`, read back by it.
        self._open_key = self._opens.derive_key()
        self._click_key = self._clicks.derive_key()
        # What instrument leaves alone: the recipient pages, and links it made itself.
        pages = [self.base + path for path in PAGES.values()]
        self.untouched = (*pages, self.base + OPEN_PATH, self.base + CLICK_PATH)

    def open_url(self, account_id: str, send_id: str) -> str:
        return f"{self.base}{OPEN_PATH}{_dumps(self._open_key, [account_id, send_id])}.gif"

    def click_url(self, account_id: str, send_id: str, link: int, url: str) -> str:
        return f"{self.base}{CLICK_PATH}{_dumps(self._click_key, [account_id, send_id, link, url])}"

    def read_open(self, token: str) -> OpenClaims | None:
        payload = _loads(self._opens, token)
        if not (isinstance(payload, list) and len(payload) == 2 and all(isinstance(p, str) for p in payload)):
            return None
        return OpenClaims(payload[0], payload[1])

    def read_click(self, token: str) -> ClickClaims | None:
        payload = _loads(self._clicks, token)
        if not (isinstance(payload, list) and len(payload) == 4):
            return None
        account_id, send_id, link, url = payload
        if not (
            isinstance(account_id, str)
            and isinstance(send_id, str)
            and isinstance(link, int)
            and isinstance(url, str)
            and is_web_url(url)
        ):
            return None
        return ClickClaims(account_id, send_id, link, url)


def _dumps(key: bytes, payload: list[Any]) -> str:
    """The payload as compact JSON in URL-safe base64, signed: `<payload>.<signature>` (what
    `Signer.sign` writes: HMAC-SHA256 with the derived key, URL-safe base64 without padding)."""
    encoded = base64_encode(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    signature = base64_encode(hmac.digest(key, encoded, "sha256"))
    return (encoded + b"." + signature).decode("ascii")


def _loads(signer: Signer, token: str) -> Any:
    if len(token) > 8192:
        return None
    try:
        return json.loads(base64_decode(signer.unsign(token)))
    except (BadSignature, UnicodeError, ValueError):
        return None


@dataclass(frozen=True)
class TrackingLinks:
    """The tracking links of one message (one ledger row): cheap to make, one per message."""

    signer: TrackingSigner
    account_id: str
    send_id: str

    def open_url(self) -> str:
        return self.signer.open_url(self.account_id, self.send_id)

    def click_url(self, link: int, url: str) -> str:
        return self.signer.click_url(self.account_id, self.send_id, link, url)


def is_web_url(url: str) -> bool:
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    return scheme in ("http", "https") and url[len(scheme) : len(scheme) + 3] == "://"


def location_of(url: str) -> str:
    """A destination as a `Location` header: ASCII, anything else percent-encoded (control
    characters too: no header can be injected through a link)."""
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~")


def with_parameters(url: str, parameters: Mapping[str, str] | None) -> str:
    """`url` with the parameters it does not have yet appended to its query (its own query is
    kept byte for byte, and a parameter already in it wins)."""
    if not parameters:
        return url
    base, hash_mark, fragment = url.partition("#")
    path, _, query = base.partition("?")
    present = {name for name, _ in parse_qsl(query, keep_blank_values=True)}
    added = [(name, value) for name, value in parameters.items() if name not in present]
    if not added:
        return url
    extra = urlencode(added)
    query = f"{query}&{extra}" if query and not query.endswith("&") else query + extra
    return f"{path}?{query}{hash_mark}{fragment}"


def pixel(links: TrackingLinks) -> str:
    return (
        f'<img src="{html.escape(links.open_url())}" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0;margin:0;padding:0;opacity:0" />'
    )


def instrument(
    html_text: str,
    *,
    links: TrackingLinks,
    opens: bool,
    clicks: bool,
    utm: Mapping[str, str] | None,
) -> str:
    """The email's HTML with its links tracked (`clicks`), UTM parameters added to their
    destinations (`utm`), and the open pixel before `</body>` (`opens`; once, however often
    this runs)."""
    count = 0

    def rewrite_tag(match: re.Match[str]) -> str:
        nonlocal count
        tag = match.group(0)
        if _NO_TRACK.search(tag):
            return tag
        found = _HREF.search(tag)
        if found is None:
            return tag
        raw = next(g for g in found.groups()[1:] if g is not None)
        url = html.unescape(raw).strip()
        if not is_web_url(url) or url.startswith(links.signer.untouched) or not urlsplit(url).netloc:
            return tag
        destination = with_parameters(url, utm)
        if clicks:
            target = links.click_url(count, destination)
            count += 1
        elif destination == url:
            return tag
        else:
            target = destination
        return f'{tag[: found.start()]}{found.group(1)}"{html.escape(target)}"{tag[found.end() :]}'

    result = _TAG.sub(rewrite_tag, html_text) if (clicks or utm) else html_text
    if opens:
        image = pixel(links)
        if image not in result:
            ends = list(_BODY_END.finditer(result))
            if ends:
                at = ends[-1].start()
                result = result[:at] + image + result[at:]
            else:
                result += image
    return result


def signer_for(session: Session, settings: Settings) -> TrackingSigner:
    """The installation's signer: `TIDINGS_SECRET_KEY` (or the stored instance secret) and
    `TIDINGS_PUBLIC_URL` (or links.py's default). Make it once per process or batch."""
    return TrackingSigner(instance_secret(session, settings.secret_key), settings.public_url)
