"""Revoking a private key, and a loop of wrong keys.

A revoked key is refused by every server process at its next check of the key revision (at
most `TIDINGS_KEY_CHECK_INTERVAL` seconds later); the tests move each process's key clock past
the interval rather than sleep. A wrong key costs at most a bounded number of lookups.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openapi_client.exceptions import UnauthorizedException
from sqlalchemy import event, update
from typer.testing import CliRunner

from tests.conftest import AccountKeys, make_account, make_key
from tests.events.ingest.test_api import event_body
from tidings.accounts import repository
from tidings.accounts.service import hash_key
from tidings.accounts.tables import ApiKey
from tidings.app import create_app
from tidings.cli import app as cli
from tidings.config import Settings, get_settings
from tidings.db.base import utcnow
from tidings.db.session import Database


class KeyClock:
    """A process's key clock, moved by hand: from `start` (still between two moves, at the start
    of a minute for the failure windows), or the monotonic clock plus the moves."""

    def __init__(self, start: float | None = None) -> None:
        self.start = start
        self.offset = 0.0

    def __call__(self) -> float:
        return (time.monotonic() if self.start is None else self.start) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Process:
    """A server process: its own app, database engine and caches."""

    client: TestClient
    app: FastAPI
    db: Database
    clock: KeyClock
    key_lookups: list[str]

    def next_check(self) -> None:
        """Move to the instant the process reads the key revision again."""
        self.clock.advance(self.app.state.runtime.authority.keys.check_interval)


def _process(settings: Settings) -> Iterator[Process]:
    db = Database(settings)
    lookups: list[str] = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if "FROM api_keys" in statement or "FROM accounts" in statement:
            lookups.append(statement)

    app = create_app(settings, db=db, workers=0)
    clock = KeyClock(start=100 * 60.0)
    app.state.runtime.authority.keys.clock = clock
    with TestClient(app, raise_server_exceptions=False) as client:
        lookups.clear()  # the start-up warm-up's, not a request's
        yield Process(client, app, db, clock, lookups)
    db.dispose()


@pytest.fixture
def process(settings: Settings, db: Database) -> Iterator[Process]:
    yield from _process(settings.model_copy(update={"auth_failures_per_minute": 5}))


@pytest.fixture
def another_process(settings: Settings, db: Database) -> Iterator[Process]:
    yield from _process(settings)


@pytest.fixture
def run(monkeypatch, database_url, db):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TIDINGS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli, list(args))
    get_settings.cache_clear()


def _get(process: Process, key: str) -> int:
    headers = {"Authorization": f"Klaviyo-API-Key {key}", "revision": "2026-10-15"}
    return process.client.get("/api/profiles", headers=headers).status_code


def _post(process: Process, key: str) -> int:
    """Through the lean ingestion path."""
    headers = {"Authorization": f"Klaviyo-API-Key {key}", "revision": "2026-10-15"}
    return process.client.post("/api/events", json=event_body(), headers=headers).status_code


def test_the_sdk_and_the_lean_path_refuse_a_key_revoked_with_the_cli(app, server, http, run, db) -> None:
    from klaviyo_api import KlaviyoAPI

    account = make_account(db)
    clock = KeyClock()
    app.state.runtime.authority.keys.clock = clock
    try:
        klaviyo = KlaviyoAPI(api_key=account.private_key, test_host=server.url, max_retries=0)
        assert klaviyo.Accounts.get_accounts().data[0].id == account.id  # the key is now kept
        assert http.post("/api/events", json=event_body(), headers=account.headers()).status_code == 202

        revoked = run("keys", "revoke", account.private_key)  # its own Database: another process
        assert revoked.exit_code == 0, revoked.output
        assert "Revoked key" in revoked.output and account.private_key not in revoked.output
        clock.advance(app.state.runtime.authority.keys.check_interval)

        with pytest.raises(UnauthorizedException) as refused:
            klaviyo.Accounts.get_accounts()
        assert refused.value.data.errors[0].code == "not_authenticated"
        answer = http.post("/api/events", json=event_body(), headers=account.headers())
        assert answer.status_code == 401
        assert answer.json()["errors"][0]["detail"] == "Incorrect authentication credentials."
    finally:
        app.state.runtime.authority.keys.clock = time.monotonic


def test_every_process_refuses_a_key_another_one_revoked(
    process: Process, another_process: Process, db: Database
) -> None:
    account = make_account(db)
    kept = make_key(db, account.id)
    for server in (process, another_process):
        assert _get(server, account.private_key) == 200
        assert _post(server, account.private_key) == 202

    # A third process revokes it: its own engine, the key's row and the revision in one commit.
    with db.write() as session:
        session.execute(
            update(ApiKey)
            .where(ApiKey.account_id == account.id, ApiKey.key_prefix == account.private_key[:8])
            .values(revoked_at=utcnow())
        )
        repository.raise_key_changes(session)

    for server in (process, another_process):
        server.next_check()
        assert _get(server, account.private_key) == 401
        assert _post(server, account.private_key) == 401
        assert _get(server, kept) == 200 and _post(server, kept) == 202  # the account's other key


def test_a_kept_key_costs_no_lookup_and_the_revision_one_read_per_interval(
    process: Process, db: Database
) -> None:
    account = make_account(db)
    assert _get(process, account.private_key) == 200
    process.key_lookups.clear()
    reads: list[str] = []
    event.listen(
        process.db.engine,
        "before_cursor_execute",
        lambda _c, _k, statement, *_a: reads.append(statement) if "api_key_changes" in statement else None,
    )
    for _ in range(20):
        assert _post(process, account.private_key) == 202
    assert process.key_lookups == [] and reads == []
    process.next_check()
    for _ in range(20):
        assert _post(process, account.private_key) == 202
    assert process.key_lookups == [] and len(reads) == 1


def test_a_revocation_without_the_revision_is_seen_once_the_key_is_looked_up_again(
    process: Process, db: Database
) -> None:
    """A hand-made `UPDATE api_keys SET revoked_at` that forgets the revision: the kept key
    expires after 30 seconds, and is looked up again."""
    account = make_account(db)
    assert _post(process, account.private_key) == 202
    with db.write() as session:
        session.execute(update(ApiKey).where(ApiKey.account_id == account.id).values(revoked_at=utcnow()))
    process.clock.advance(process.app.state.runtime.authority.keys.ttl)
    assert _post(process, account.private_key) == 401


def test_a_loop_of_wrong_keys_makes_a_bounded_number_of_lookups(process: Process, db: Database) -> None:
    """Five failed lookups a minute from one address (this app's setting); then 429 and no lookup."""
    answers = [_get(process, f"pk_{n:040d}") for n in range(50)] + [
        _post(process, f"pk_{n:040x}") for n in range(50, 100)
    ]
    assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}
    assert len(process.key_lookups) == 5

    throttled = process.client.get(
        "/api/profiles", headers={"Authorization": "Klaviyo-API-Key pk_nope", "revision": "2026-10-15"}
    )
    assert throttled.json()["errors"][0]["code"] == "throttled"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60

    process.clock.advance(60)  # the next minute: five more
    assert [_get(process, f"pk_{n:040d}") for n in range(200, 206)] == [401] * 5 + [429]
    assert len(process.key_lookups) == 10


def test_a_wrong_key_again_is_refused_from_memory_with_klaviyos_401(process: Process) -> None:
    answers = [
        process.client.get(
            "/api/profiles", headers={"Authorization": "Klaviyo-API-Key pk_wrong", "revision": "2026-10-15"}
        )
        for _ in range(30)
    ]
    assert {a.status_code for a in answers} == {401}
    assert {a.json()["errors"][0]["detail"] for a in answers} == {"Incorrect authentication credentials."}
    assert len(process.key_lookups) == 1
    public = [_get(process, "Ab12Cd") for _ in range(10)]  # a six-character key is looked up as an account id
    assert set(public) == {401} and len(process.key_lookups) == 2


def test_keys_in_use_keep_working_from_an_address_that_guesses(process: Process, db: Database) -> None:
    account: AccountKeys = make_account(db)
    assert _get(process, account.private_key) == 200
    assert {_get(process, f"pk_{n:040d}") for n in range(10)} == {401, 429}
    process.clock.advance(process.app.state.runtime.authority.keys.ttl)  # no longer fresh: looked up again
    assert _get(process, account.private_key) == 200 and _post(process, account.private_key) == 202
    newcomer = make_key(db, account.id)
    assert _get(process, newcomer) == 429  # a key this address never used waits for the next minute
    process.clock.advance(60)
    assert _get(process, newcomer) == 200


def test_revoke_names_a_key_by_id_or_prefix_and_says_what_it_did(run, db: Database) -> None:
    account = make_account(db)
    second = make_key(db, account.id)
    with db.read() as session:
        first_id = next(
            k.id for k in repository.list_keys(session, account.id) if k.key_prefix == account.private_key[:8]
        )

    by_id = run("keys", "revoke", first_id)
    assert by_id.exit_code == 0 and f"id {first_id}" in by_id.output
    again = run("keys", "revoke", account.private_key)
    assert again.exit_code == 0 and "already revoked" in again.output
    by_prefix = run("keys", "revoke", second[:8] + "…", "--account", account.id)
    assert by_prefix.exit_code == 0 and "no active private key left" in by_prefix.output
    listing = run("keys", "list", "--account", account.id)
    assert listing.output.count("revoked 20") == 2

    unknown = run("keys", "revoke", "pk_" + "f" * 40)
    assert unknown.exit_code == 1 and "No private key matches 'pk_fffff…'" in unknown.output
    assert "f" * 40 not in unknown.output  # a key is never echoed


def test_an_ambiguous_prefix_revokes_nothing(run, db: Database) -> None:
    first, second = make_account(db), make_account(db)
    prefix = "pk_" + uuid.uuid4().hex[:5]
    with db.write() as session:
        accounts_of = ApiKey.account_id.in_([first.id, second.id])
        session.execute(update(ApiKey).where(accounts_of).values(key_prefix=prefix))
    result = run("keys", "revoke", prefix)
    assert result.exit_code == 1 and "2 keys match" in result.output
    with db.read() as session:
        assert repository.find_key(session, hash_key(first.private_key)) is not None
        assert repository.find_key(session, hash_key(second.private_key)) is not None
