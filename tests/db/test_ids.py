"""Identifiers: `ulids` makes the same shape of ULID as `ulid`, many at once."""

from __future__ import annotations

from tidings.db import ids


def _value(text: str) -> int:
    value = 0
    for char in text:
        value = value * 32 + ids._CROCKFORD.index(char)
    return value


def test_ulids_carry_the_time_and_80_random_bits_like_ulid() -> None:
    for ms in (0, 1, 1_700_000_000_123, 2**48 - 1):
        many = ids.ulids(50, at_ms=ms)
        assert len(set(many)) == 50
        assert all(len(u) == 26 and _value(u) >> 80 == ms for u in many)
        assert {u[:10] for u in many} == {ids.ulid(ms)[:10]}
    assert ids.ulids(0) == []
    # Randomness reaches every character of the random part.
    assert all(len({u[i] for u in ids.ulids(2000)}) > 16 for i in range(10, 26))
