"""VERP return paths: `bounces+<token>@<bounce domain>`, one per send, so a bounce names its send
even when the returned message is mangled beyond parsing.

The token is `<account>.<send>.<mac>`, all lower case (some receivers lower-case local parts):
the account id (6 mixed-case characters) in base32, the send's ULID, and the first 10 bytes of
an HMAC-SHA256 of both under the installation's secret, in base32. 54 characters, so the local
part stays within SMTP's 64. A token whose MAC does not match is ignored: no one can make a
bounce land on a send by guessing its address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from tidings.config import get_settings

PREFIX = "bounces+"
_TOKEN = re.compile(r"^bounces\+([a-z2-7]{10})\.([0-9a-hjkmnp-tv-z]{26})\.([a-z2-7]{16})$")


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=").lower()


def _mac(account_id: str, send_id: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"verp\x00{account_id}\x00{send_id}".encode(), hashlib.sha256)
    return _b32(digest.digest()[:10])


def return_path(account_id: str, send_id: str, secret: str, *, domain: str | None = None) -> str:
    """The envelope sender of one send: `bounces+<token>@<domain>` (by default the domain of
    TIDINGS_BOUNCE_DOMAIN; without one there is no VERP return path: ValueError)."""
    domain = domain or get_settings().bounce_domain
    if not domain:
        raise ValueError("VERP return paths need TIDINGS_BOUNCE_DOMAIN")
    account = _b32(account_id.encode())
    return f"{PREFIX}{account}.{send_id.lower()}.{_mac(account_id, send_id.upper(), secret)}@{domain}"


def is_return_path(address: str) -> bool:
    return address.strip().lower().startswith(PREFIX)


def parse_return_path(address: str, secret: str) -> tuple[str, str] | None:
    """(account_id, send_id) of a return path this installation made; None for anything else,
    a forged or damaged token included. The domain is not checked (the listener does)."""
    local = address.strip().strip("<>").rpartition("@")[0].lower()
    match = _TOKEN.match(local)
    if match is None:
        return None
    encoded, send, mac = match.groups()
    try:
        account_id = base64.b32decode(encoded.upper() + "======").decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    send_id = send.upper()
    if not hmac.compare_digest(mac, _mac(account_id, send_id, secret)):
        return None
    return account_id, send_id
