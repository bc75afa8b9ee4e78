"""Klaviyo's rate limits: fixed windows per account and operation, burst (1 s) and steady (1 min).

In memory by default; shared across processes through Redis when `TIDINGS_REDIS_URL` is set.
The spec's numbers are multiplied by `TIDINGS_RATE_LIMIT_SCALE`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

BURST_WINDOW = 1
STEADY_WINDOW = 60


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int  # the steady window's limit, for the RateLimit-* headers
    remaining: int
    reset: int  # seconds until the steady window resets
    retry_after: int  # seconds to wait when not allowed

    def headers(self) -> dict[str, str]:
        if not self.allowed:
            return {"Retry-After": str(self.retry_after)}
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


class Counter(Protocol):
    def incr(self, key: str, window: int, now: float) -> int: ...


class MemoryCounter:
    def __init__(self) -> None:
        self._counts: dict[tuple[str, int, int], int] = {}
        self._lock = threading.Lock()
        self._last_sweep = 0.0

    def incr(self, key: str, window: int, now: float) -> int:
        slot = int(now // window)
        with self._lock:
            if now - self._last_sweep > STEADY_WINDOW:
                self._sweep(now)
            count = self._counts.get((key, window, slot), 0) + 1
            self._counts[(key, window, slot)] = count
            return count

    def _sweep(self, now: float) -> None:
        self._last_sweep = now
        for item in [k for k in self._counts if k[2] < int(now // k[1])]:
            del self._counts[item]


class RedisCounter:
    def __init__(self, url: str) -> None:
        import redis

        self._redis: Any = redis.Redis.from_url(url)

    def incr(self, key: str, window: int, now: float) -> int:
        slot = int(now // window)
        name = f"tidings:rl:{key}:{window}:{slot}"
        pipe = self._redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, window + 1)
        count, _ = pipe.execute()
        return int(count)


class RateLimiter:
    def __init__(
        self,
        counter: Counter,
        *,
        scale: float = 1.0,
        enabled: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.counter = counter
        self.scale = scale
        self.enabled = enabled
        self.clock = clock

    def hit(
        self, account_id: str, operation_id: str, burst: int | None, steady: int | None
    ) -> Decision | None:
        if not self.enabled or (burst is None and steady is None):
            return None
        now = self.clock()
        key = f"{account_id}:{operation_id}"
        decision: Decision | None = None
        steady_limit = max(1, math.floor(steady * self.scale)) if steady else None
        if burst:
            burst_limit = max(1, math.floor(burst * self.scale))
            if self.counter.incr(key, BURST_WINDOW, now) > burst_limit:
                wait = max(1, math.ceil((math.floor(now) + 1) - now))
                decision = Decision(False, burst_limit, 0, wait, wait)
        if steady_limit:
            used = self.counter.incr(key, STEADY_WINDOW, now)
            reset = max(1, math.ceil((math.floor(now / 60) + 1) * 60 - now))
            if used > steady_limit:
                return Decision(False, steady_limit, 0, reset, reset)
            if decision is None:
                decision = Decision(True, steady_limit, steady_limit - used, reset, 0)
        return decision


def make_limiter(*, redis_url: str | None, scale: float, enabled: bool) -> RateLimiter:
    counter: Counter = RedisCounter(redis_url) if redis_url else MemoryCounter()
    return RateLimiter(counter, scale=scale, enabled=enabled)
