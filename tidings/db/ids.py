"""Identifiers in Klaviyo's shapes.

Profiles, events and jobs get 26-character ULIDs (time-ordered, so the newest sort last);
metrics, lists, segments and accounts get 6-character ids like Klaviyo's.
"""

from __future__ import annotations

import base64
import secrets
import string
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_SHORT = string.ascii_letters + string.digits
# base64's RFC 4648 base32 alphabet -> Crockford's, so the encoding runs in C (bulk imports make
# hundreds of thousands of ids; the per-character loop cost 20 us each).
_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD.encode())


def ulid(at_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if at_ms is None else at_ms
    value = (ms << 80) | secrets.randbits(80)
    # 26 characters of 5 bits are the top 130 bits of 20 bytes (160 bits): shift by 30.
    encoded = base64.b32encode((value << 30).to_bytes(20, "big"))[:26]
    return encoded.translate(_TO_CROCKFORD).decode()


def short_id(length: int = 6) -> str:
    return "".join(secrets.choice(_SHORT) for _ in range(length))
