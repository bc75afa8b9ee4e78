"""HTTP plumbing: cache misses at the same time share one lookup."""

from __future__ import annotations

import asyncio

import pytest

from tidings.http import _once


def test_concurrent_misses_share_one_lookup() -> None:
    calls = 0

    async def lookup() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return "Ab12Cd"

    async def burst() -> list[str]:
        return await asyncio.gather(*(_once("key", "digest", lookup) for _ in range(64)))

    assert asyncio.run(burst()) == ["Ab12Cd"] * 64
    assert calls == 1
    assert asyncio.run(burst()) == ["Ab12Cd"] * 64  # done lookups are not kept: the cache is the caller's
    assert calls == 2


def test_a_failed_lookup_fails_every_waiter_and_is_not_kept() -> None:
    async def lookup() -> str:
        await asyncio.sleep(0.01)
        raise LookupError("no such key")

    async def burst() -> list[object]:
        return await asyncio.gather(*(_once("key", "bad", lookup) for _ in range(8)), return_exceptions=True)

    assert all(isinstance(result, LookupError) for result in asyncio.run(burst()))
    with pytest.raises(LookupError):
        asyncio.run(_once("key", "bad", lookup))
