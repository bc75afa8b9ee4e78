"""Ids: ULIDs sort by time and decode to the time they were made; short ids have Klaviyo's shape."""

from __future__ import annotations

import threading

from hypothesis import given
from hypothesis import strategies as st

from tidings.db.ids import short_id, ulid

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
