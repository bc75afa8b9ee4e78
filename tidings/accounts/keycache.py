"""What one process remembers about private keys, so that a request rarely looks one up.

- Keys in use: a key's principal is kept `ttl` seconds (30); then, or once the key revision
  moved, the next request with that key looks it up again.
- Revocations: every revocation raises a revision in the database (`api_key_changes`, in the
  revoking transaction). `refresh` reads it (one primary-key read) when a request finds it
  `due`, at most every `check_interval` seconds (1), and when it moved, every kept key is
  looked up again. So a revoked key is refused in every process (`tidings serve --processes`,
  several hosts) at most `check_interval` seconds after the revocation committed, without a
  key lookup per request. A counter, not a time: no clocks need to agree.
- Wrong keys: a key refused lately is refused again from memory (the same error), and a client
  address whose lookups of unknown keys failed `failures_per_minute` times in the current
  minute gets 429 with no lookup until the minute ends. A key that was valid lately is exempt,
  so a client sharing its address with a guessing loop keeps working. Counted per process.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tidings.accounts import repository
from tidings.jsonapi.errors import AuthenticationFailed, Throttled

REFUSED_SECONDS = 60.0
FAILURE_WINDOW = 60
MAX_ENTRIES = 10_000  # per map; past it, the map starts again empty (a bound on memory)


@dataclass(frozen=True)
class Principal:
    """Who a private key is: its account, the key, and its scopes (None: full access)."""

    account_id: str
    key_id: str
    scopes: frozenset[str] | None


@dataclass
class _Known:
    principal: Principal
    fresh_until: float  # after this instant (or once the revision moved) it is looked up again


@dataclass(frozen=True)
class Lookup:
    """A database lookup under way: what `found`, `refused` and `abandoned` need to settle it."""

    generation: int
    client: str | None  # the address it was counted against, if it was
    window: int


class KeyCache:
    def __init__(
        self,
        *,
        ttl: float = 30.0,
        check_interval: float = 1.0,
        failures_per_minute: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.check_interval = check_interval
        self.failures_per_minute = failures_per_minute
        self.clock = clock
        self._known: dict[str, _Known] = {}
        self._refused: dict[str, tuple[float, str]] = {}
        self._failures: dict[str, tuple[int, int]] = {}  # address -> (window, lookups counted)
        self._revision: int | None = None
        self._checked = -math.inf
        self._generation = 0
        self._lock = threading.Lock()

    @property
    def revision(self) -> int | None:
        """The key revision last read (None before the first read)."""
        return self._revision

    def due(self) -> bool:
        return self.clock() - self._checked >= self.check_interval

    def refresh(self, session: Session) -> None:
        """Read the key revision; when it moved, every kept key is looked up again."""
        try:
            revision = repository.key_changes(session)
        except Exception:
            self._checked = self.clock()  # not again before the next interval
            raise
        with self._lock:
            self._checked = self.clock()
            if revision == self._revision:
                return
            self._revision = revision
            self._generation += 1  # a lookup that began before this read is not kept as fresh
            for item in self._known.values():
                item.fresh_until = -math.inf

    def known(self, digest: str) -> Principal | None:
        """The principal of a key in use, or None when it must be looked up. Raises for a key
        refused lately, with the error it got then."""
        now = self.clock()
        item = self._known.get(digest)
        if item is not None and item.fresh_until > now:
            return item.principal
        refused = self._refused.get(digest)
        if refused is not None and refused[0] > now:
            raise AuthenticationFailed(refused[1])
        return None

    def begin(self, digest: str, client: str | None) -> Lookup:
        """Before looking a key up: count the lookup against the client's address, or raise
        Throttled when the address has used up its failures (unless the key was valid lately)."""
        now = self.clock()
        window = int(now // FAILURE_WINDOW)
        with self._lock:
            if client is None or digest in self._known:
                return Lookup(self._generation, None, window)
            counted, count = self._failures.get(client, (window, 0))
            if counted != window:
                count = 0
            if count >= self.failures_per_minute:
                wait = max(1, math.ceil((window + 1) * FAILURE_WINDOW - now))
                raise Throttled(
                    "Too many requests with incorrect credentials from this address. "
                    f"Expected available in {wait} second(s).",
                    headers={"Retry-After": str(wait)},
                )
            if len(self._failures) >= MAX_ENTRIES:
                self._sweep_failures(window)
            self._failures[client] = (window, count + 1)
            return Lookup(self._generation, client, window)

    def found(self, lookup: Lookup, digest: str, principal: Principal) -> None:
        """A good key: not a failure; kept, as fresh unless the revision moved meanwhile."""
        with self._lock:
            self._release(lookup)
            fresh = lookup.generation == self._generation
            if len(self._known) >= MAX_ENTRIES:
                self._known.clear()
            self._known[digest] = _Known(principal, self.clock() + self.ttl if fresh else -math.inf)

    def refused(self, lookup: Lookup, digest: str, detail: str) -> None:
        """A wrong (or revoked) key: the failure stays counted; the next use is refused from memory."""
        with self._lock:
            self._known.pop(digest, None)
            if len(self._refused) >= MAX_ENTRIES:
                self._refused.clear()
            self._refused[digest] = (self.clock() + REFUSED_SECONDS, detail)

    def abandoned(self, lookup: Lookup) -> None:
        """A lookup that could not be made (the database failed): not the client's failure."""
        with self._lock:
            self._release(lookup)

    def _release(self, lookup: Lookup) -> None:
        if lookup.client is None:
            return
        window, count = self._failures.get(lookup.client, (lookup.window, 0))
        if window == lookup.window and count > 0:
            self._failures[lookup.client] = (window, count - 1)

    def _sweep_failures(self, window: int) -> None:
        for address in [a for a, (w, _count) in self._failures.items() if w != window]:
            del self._failures[address]
        if len(self._failures) >= MAX_ENTRIES:  # that many addresses in one minute: start again
            self._failures.clear()
