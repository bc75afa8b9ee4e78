"""Klaviyo's per-operation rate limits: 429 with an integer Retry-After, RateLimit-* otherwise."""

from __future__ import annotations

import os
import uuid

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_account
from tests.events.ingest.test_api import event_body
from tidings.app import create_app
from tidings.ops import middleware
from tidings.ratelimit import MemoryCounter, RateLimiter, RedisCounter


@pytest.fixture
def limited_client(settings, db):
    limited = settings.model_copy(update={"rate_limits_enabled": True, "rate_limit_scale": 1.0})
    app = create_app(limited, db=db, workers=0)
    app.state.runtime.limiter.clock = lambda: (
        5000.5
    )  # every request in one window: no flakiness at a boundary
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_burst_limit_answers_429_with_integer_retry_after(limited_client: TestClient, db) -> None:
    account = make_account(db)
    first = limited_client.get("/api/accounts", headers=account.headers())  # get_accounts: 1/s, 15/m
    assert first.status_code == 200
    assert first.headers["RateLimit-Limit"] == "15"
    assert first.headers["RateLimit-Remaining"] == "14"
    assert 1 <= int(first.headers["RateLimit-Reset"]) <= 60
    second = limited_client.get("/api/accounts", headers=account.headers())
    assert second.status_code == 429
    assert second.json()["errors"][0]["code"] == "throttled"
    assert second.headers["Retry-After"].isdigit() and int(second.headers["Retry-After"]) >= 1
    assert "RateLimit-Limit" not in second.headers


class _Log:
    """Records the request log lines (the middleware's logger, replaced)."""

    def __init__(self) -> None:
        self.lines: list[dict] = []

    def info(self, event: str, **fields) -> None:  # type: ignore[no-untyped-def]
        self.lines.append({"event": event, **fields})


@pytest.mark.parametrize(
    ("path", "body"),
    [("/api/accounts", None), ("/api/events", event_body()), ("/client/events", event_body())],
)
def test_a_throttled_request_is_logged_with_its_account(limited_client, db, monkeypatch, path, body) -> None:
    account = make_account(db)
    limited_client.app.state.runtime.limiter.scale = 0.0001  # every operation: one request a second
    log = _Log()
    monkeypatch.setattr(middleware, "log", log)
    headers = account.headers()
    if path.startswith("/client"):
        path, headers = f"{path}?company_id={account.public_key}", {"revision": headers["revision"]}
    answers = [
        limited_client.request("POST" if body else "GET", path, json=body, headers=headers) for _ in range(2)
    ]
    assert answers[1].status_code == 429
    assert [(line["status"], line["account_id"]) for line in log.lines] == [
        (answers[0].status_code, account.id),
        (429, account.id),
    ]


def test_limits_are_per_account(limited_client: TestClient, db) -> None:
    a, b = make_account(db), make_account(db)
    assert limited_client.get("/api/accounts", headers=a.headers()).status_code == 200
    assert limited_client.get("/api/accounts", headers=b.headers()).status_code == 200


def test_scale_raises_the_limits() -> None:
    limiter = RateLimiter(MemoryCounter(), scale=3.0, clock=lambda: 1000.5)
    results = [limiter.hit("acct01", "get_accounts", 1, 15) for _ in range(4)]
    assert [d.allowed for d in results if d] == [True, True, True, False]


def test_disabled_limiter_never_throttles() -> None:
    limiter = RateLimiter(MemoryCounter(), enabled=False)
    assert all(limiter.hit("acct01", "op", 1, 1) is None for _ in range(10))


def test_steady_window_throttles_for_the_rest_of_the_minute() -> None:
    limiter = RateLimiter(MemoryCounter(), clock=lambda: 1000.5)
    decisions = [limiter.hit("acct01", "op", None, 2) for _ in range(3)]
    assert [d.allowed for d in decisions if d] == [True, True, False]
    assert 1 <= decisions[-1].retry_after <= 60


def _redis_url() -> str | None:
    url = os.environ.get("TIDINGS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except Exception:
        return None
    return url


def test_redis_counter_shares_limits_between_limiters() -> None:
    url = _redis_url()
    if url is None:
        pytest.skip("Redis is not reachable")
    account = uuid.uuid4().hex[:6]
    frozen = 1000.5  # one burst window for all three hits
    one = RateLimiter(RedisCounter(url), clock=lambda: frozen)
    two = RateLimiter(RedisCounter(url), clock=lambda: frozen)
    assert one.hit(account, "op", 2, 100).allowed
    assert two.hit(account, "op", 2, 100).allowed
    assert not one.hit(account, "op", 2, 100).allowed
