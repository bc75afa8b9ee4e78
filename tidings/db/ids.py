"""Identifiers in Klaviyo's shapes.

Profiles, events and jobs get 26-character ULIDs (time-ordered, so the newest sort last);
metrics, lists, segments and accounts get 6-character ids like Klaviyo's.
"""

from __future__ import annotations

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


def short_id(length: int = 6) -> str:
    return "".join(secrets.choice(_SHORT) for _ in range(length))
