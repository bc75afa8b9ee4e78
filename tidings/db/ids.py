"""Identifiers in Klaviyo's shapes.

Profiles, events and jobs get 26-character ULIDs (time-ordered, so the newest sort last);
metrics, lists, segments and accounts get 6-character ids like Klaviyo's.
"""

from __future__ import annotations

import base64
import os
import secrets
import string
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_SHORT = string.ascii_letters + string.digits


def ulid(at_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if at_ms is None else at_ms
    value = (ms << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


_FROM_BASE32 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD)


def ulids(count: int, at_ms: int | None = None) -> list[str]:
    """`count` ULIDs of one millisecond, as `ulid` makes them, for bulk writes (a feed sync
    records thousands of changes at once): one read of randomness for all of them, and since
    80 random bits are exactly 16 base32 characters, one encoding of it (RFC 4648's alphabet,
    translated to Crockford's)."""
    ms = int(time.time() * 1000) if at_ms is None else at_ms
    stamp = ulid(ms)[:10]  # 48 bits of milliseconds in 10 characters
    encoded = base64.b32encode(os.urandom(10 * count)).decode().translate(_FROM_BASE32)
    return [stamp + encoded[start : start + 16] for start in range(0, 16 * count, 16)]


def short_id(length: int = 6) -> str:
    return "".join(secrets.choice(_SHORT) for _ in range(length))
