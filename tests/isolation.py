"""The isolation helper: a key of account B never reads or changes account A's data.

Each domain lists its routes in a `tests/<domain>/isolation_cases.py` module exposing
`CASES` (routes on one resource: B must get 404) and `LISTINGS` (collection routes: B's
listing must not show A's resources). `tests/test_isolation.py` checks that every `/api`
route of the app is listed somewhere, so a new route without a case fails the suite.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import AccountKeys
from tidings.db.session import Database


@dataclass
class Env:
    client: TestClient
    db: Database
    a: AccountKeys
    b: AccountKeys

    def as_a(self, method: str, url: str, **kwargs: Any) -> Any:
        return self.client.request(method, url, headers=self.a.headers(), **kwargs)


@dataclass
class Case:
    """A route on one of A's resources. `setup` creates it as A and returns the path params."""

    method: str
    path: str
    setup: Callable[[Env], dict[str, str]]
    body: Callable[[dict[str, str]], Any] | None = None
    # Called after B's attempt; asserts A's resource is unchanged (for writes).
    unchanged: Callable[[Env, dict[str, str]], None] | None = None


@dataclass
class Listing:
    """A collection route. `setup` creates A's data and returns the ids B must not see."""

    path: str
    setup: Callable[[Env], list[str]]
    params: dict[str, str] = field(default_factory=dict)


def discover() -> tuple[list[Case], list[Listing]]:
    import tests

    cases: list[Case] = []
    listings: list[Listing] = []
    for module in pkgutil.walk_packages(tests.__path__, "tests."):
        if module.name.endswith(".isolation_cases"):
            loaded = importlib.import_module(module.name)
            cases += getattr(loaded, "CASES", [])
            listings += getattr(loaded, "LISTINGS", [])
            EXEMPT.update(getattr(loaded, "EXEMPT", {}))
    return cases, listings


# Routes that take no resource of another account (the caller's own inbox, say). Each says why.
# A domain's isolation_cases module may add its own in an `EXEMPT` dict of the same shape.
EXEMPT: dict[tuple[str, str], str] = {
    ("POST", "/api/events"): "writes only; a profile id of another account is a dead letter "
    "(tests/events/ingest/test_isolation.py)",
    ("POST", "/api/event-bulk-create-jobs"): "writes only; as create_event",
    ("GET", "/api/track"): "legacy: the public token in the payload names the account",
    ("POST", "/api/track"): "legacy: the public token in the payload names the account",
    ("GET", "/api/identify"): "legacy: the public token in the payload names the account",
    ("POST", "/api/identify"): "legacy: the public token in the payload names the account",
}
