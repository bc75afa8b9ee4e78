"""Fixtures: one migrated database per run (SQLite or PostgreSQL), an app, a live server.

`TIDINGS_TEST_DB=sqlite|postgres` picks the database (make test runs both). Every test
makes its own accounts, and every row belongs to an account, so tests do not see each
other's data.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from tidings import domains
from tidings.accounts import service as accounts
from tidings.accounts.schemas import AccountCreate
from tidings.app import create_app
from tidings.config import Settings
from tidings.db.migrate import upgrade
from tidings.db.session import Database
from tidings.ops.logs import configure_logging

REVISION = "2026-10-15"
# Tests reach their fakes on 127.0.0.1 through the outbound guard; tests of the guard itself
# give it a policy of their own (or set this to false for one test).
os.environ.setdefault("TIDINGS_ALLOW_PRIVATE_URLS", "true")
configure_logging("WARNING", "console")
domains.install()  # what the app, the workers and the CLI do first: every registration
POSTGRES_ADMIN = os.environ.get(
    "TIDINGS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def backend() -> str:
    return os.environ.get("TIDINGS_TEST_DB", "sqlite")


def _psycopg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend() == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'tidings.db'}"
        return
    import psycopg

    name = f"tidings_test_{uuid.uuid4().hex[:12]}"
    admin = _psycopg_dsn(POSTGRES_ADMIN)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_url(POSTGRES_ADMIN).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        image_dir=str(tmp_path_factory.mktemp("images")),
        rate_limits_enabled=False,
        auth_failures_per_minute=1_000_000,  # tests share one client address; tests/accounts/test_keys.py sets its own
        workers=0,
        allow_private_urls=True,
        log_level="WARNING",
        log_format="console",
    )


@pytest.fixture(scope="session")
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    upgrade(database.engine)  # the test schema is built by the migrations
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, db=db, workers=0)


@pytest.fixture(scope="session")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass
class LiveServer:
    url: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server(app: FastAPI) -> Iterator[LiveServer]:
    """The app on a real port, for the official SDK (it speaks HTTP through urllib3)."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert uv.started, "test server did not start"
    yield LiveServer(f"http://127.0.0.1:{port}")
    uv.should_exit = True
    thread.join(5)


@dataclass
class AccountKeys:
    id: str
    private_key: str
    public_key: str

    def headers(self, revision: str = REVISION) -> dict[str, str]:
        return {"Authorization": f"Klaviyo-API-Key {self.private_key}", "revision": revision}


def make_account(
    db: Database, *, name: str = "Test shop", scopes: list[str] | None = None, timezone: str = "UTC"
) -> AccountKeys:
    with db.write() as session:
        account = accounts.create_account(session, AccountCreate(name=name, timezone=timezone))
        _key, raw = accounts.create_key(session, account.id, scopes=scopes)
    return AccountKeys(account.id, raw, account.id)


def make_key(db: Database, account_id: str, *, scopes: list[str] | None = None) -> str:
    with db.write() as session:
        _key, raw = accounts.create_key(session, account_id, scopes=scopes)
    return raw


@pytest.fixture
def account(db: Database) -> AccountKeys:
    return make_account(db, name="Shop A")


@pytest.fixture
def other_account(db: Database) -> AccountKeys:
    return make_account(db, name="Shop B")


@pytest.fixture
def sdk(server: LiveServer, account: AccountKeys):  # type: ignore[no-untyped-def]
    from klaviyo_api import KlaviyoAPI

    return KlaviyoAPI(api_key=account.private_key, test_host=server.url, max_retries=0)


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


ROOT = Path(__file__).resolve().parent.parent
