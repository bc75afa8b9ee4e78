"""Identifiers in Klaviyo's shapes.

Profiles, events and jobs get 26-character ULIDs (time-ordered, so the newest sort last);
metrics, lists, segments and accounts get 6-character ids like Klaviyo's.
"""

from __future__ import annotations

import base64
import os
import secrets
import string
import threading
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Every 10-bit value as its two base32 characters: an id is 13 lookups, not a 26-step loop.
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]
_SHORT = string.ascii_letters + string.digits
_RANDOM_CHUNK = 10 * 512  # randomness for 512 ids per system call


class _Entropy(threading.local):
    """Random bytes fetched in chunks, per thread; a forked child never reuses its parent's."""

    def __init__(self) -> None:
        self.buffer = b""
        self.offset = 0
        self.pid = os.getpid()

    def take(self, size: int) -> bytes:
        if self.offset + size > len(self.buffer) or self.pid != os.getpid():
            self.buffer, self.offset, self.pid = os.urandom(_RANDOM_CHUNK), 0, os.getpid()
        start = self.offset
        self.offset += size
        return self.buffer[start : start + size]


_entropy = _Entropy()


def ulid(at_ms: int | None = None) -> str:
    """48 bits of milliseconds and 80 random bits, in Crockford's base32 (26 characters)."""
    ms = int(time.time() * 1000) if at_ms is None else at_ms
    v = (ms << 80) | int.from_bytes(_entropy.take(10), "big")
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


_FROM_BASE32 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD)


def ulids(count: int, at_ms: int | None = None) -> list[str]:
    """`count` ULIDs of one millisecond, as `ulid` makes them, for bulk writes (a feed sync
    records thousands of changes at once): one read of randomness for all of them, and since
    80 random bits are exactly 16 base32 characters, one encoding of it (RFC 4648's alphabet,
    translated to Crockford's)."""
    return ulids_at([int(time.time() * 1000) if at_ms is None else at_ms] * count)


def ulids_at(times_ms: list[int]) -> list[str]:
    """One ULID per millisecond timestamp given (as `ulid(ms)` makes them), for bulk writes of
    rows with their own times (events): one read of randomness and one encoding for all of them,
    and the 10-character time part once per distinct millisecond."""
    encoded = base64.b32encode(os.urandom(10 * len(times_ms))).decode().translate(_FROM_BASE32)
    stamps: dict[int, str] = {}
    out = []
    for index, ms in enumerate(times_ms):
        stamp = stamps.get(ms)
        if stamp is None:
            stamp = stamps[ms] = ulid(ms)[:10]  # 48 bits of milliseconds in 10 characters
        start = 16 * index
        out.append(stamp + encoded[start : start + 16])
    return out


def short_id(length: int = 6) -> str:
    return "".join(secrets.choice(_SHORT) for _ in range(length))
