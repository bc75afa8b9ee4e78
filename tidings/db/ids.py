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
# Two characters per 10 bits: 13 lookups instead of a 26-step loop (bulk imports make hundreds
# of thousands of ids; the loop cost 20 us each, this 2 to 3 us).
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]


def ulid(at_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if at_ms is None else at_ms
    v = (ms << 80) | secrets.randbits(80)
    p = _PAIRS
    return (
        p[v >> 120]
        + p[(v >> 110) & 1023]
        + p[(v >> 100) & 1023]
        + p[(v >> 90) & 1023]
        + p[(v >> 80) & 1023]
        + p[(v >> 70) & 1023]
        + p[(v >> 60) & 1023]
        + p[(v >> 50) & 1023]
        + p[(v >> 40) & 1023]
        + p[(v >> 30) & 1023]
        + p[(v >> 20) & 1023]
        + p[(v >> 10) & 1023]
        + p[v & 1023]
    )


def short_id(length: int = 6) -> str:
    return "".join(secrets.choice(_SHORT) for _ in range(length))
