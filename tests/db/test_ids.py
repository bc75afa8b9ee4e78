"""Ids: ULIDs sort by time and decode to the time they were made (one at a time or many at
once); short ids have Klaviyo's shape."""

from __future__ import annotations

import threading

from hypothesis import given
from hypothesis import strategies as st

from tidings.db.ids import short_id, ulid, ulids

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def decode(value: str) -> int:
    number = 0
    for char in value:
        number = number * 32 + CROCKFORD.index(char)
    return number


@given(st.integers(min_value=0, max_value=2**48 - 1))
def test_ulid_carries_its_milliseconds(ms: int) -> None:
    value = ulid(ms)
    assert len(value) == 26 and set(value) <= set(CROCKFORD)
    assert decode(value) >> 80 == ms


@given(st.integers(min_value=0, max_value=2**48 - 2))
def test_later_ulids_sort_after_earlier_ones(ms: int) -> None:
    assert ulid(ms) < ulid(ms + 1)


def test_ulids_are_unique_across_threads() -> None:
    made: list[list[str]] = [[] for _ in range(4)]

    def make(out: list[str]) -> None:
        out.extend(ulid(0) for _ in range(20_000))

    threads = [threading.Thread(target=make, args=(out,)) for out in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [value for out in made for value in out]
    assert len(set(every)) == len(every)


def test_short_ids_are_six_letters_or_digits() -> None:
    value = short_id()
    assert len(value) == 6 and value.isalnum()


def test_ulids_carry_the_time_and_80_random_bits_like_ulid() -> None:
    for ms in (0, 1, 1_700_000_000_123, 2**48 - 1):
        many = ulids(50, at_ms=ms)
        assert len(set(many)) == 50
        assert all(len(u) == 26 and decode(u) >> 80 == ms for u in many)
        assert {u[:10] for u in many} == {ulid(ms)[:10]}
    assert ulids(0) == []
    # Randomness reaches every character of the random part.
    assert all(len({u[i] for u in ulids(2000)}) > 16 for i in range(10, 26))
