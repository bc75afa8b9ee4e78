"""The `tidings` command, as a script or a person runs it."""

from __future__ import annotations

import json
import socket

import pytest
from typer.testing import CliRunner

from tidings.cli import app
from tidings.config import get_settings


@pytest.fixture
def run(monkeypatch, database_url, db):
    monkeypatch.setenv("TIDINGS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def test_db_upgrade_is_idempotent(run) -> None:
    assert run("db", "upgrade").exit_code == 0
    result = run("db", "upgrade")
    assert result.exit_code == 0 and "up to date" in result.output


def test_accounts_create_json_then_keys(run, client) -> None:
    result = run("accounts", "create", "CLI Shop", "--json", "--timezone", "Europe/Paris")
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert set(created) == {"account_id", "private_key", "public_key"}
    assert created["private_key"].startswith("pk_") and len(created["private_key"]) >= 35
    assert created["public_key"] == created["account_id"] and len(created["public_key"]) == 6

    headers = {"Authorization": f"Klaviyo-API-Key {created['private_key']}", "revision": "2026-10-15"}
    attrs = client.get("/api/accounts", headers=headers).json()["data"][0]["attributes"]
    assert attrs["timezone"] == "Europe/Paris"

    key = run("keys", "create", "--account", created["account_id"], "--scopes", "profiles:read", "--json")
    assert key.exit_code == 0, key.output
    scoped = json.loads(key.output)
    assert scoped["scopes"] == ["profiles:read"]
    listing = run("keys", "list", "--account", created["account_id"])
    assert listing.output.count(created["account_id"]) == 2
    assert created["private_key"] not in listing.output  # only prefixes are shown


def test_bad_input_is_a_message_not_a_traceback(run) -> None:
    result = run("keys", "create", "--account", "nope00")
    assert result.exit_code == 1 and "No account" in result.output
    result = run("accounts", "create", "Bad", "--timezone", "Mars/Olympus")
    assert result.exit_code == 1 and "Unknown timezone" in result.output
    account = json.loads(run("accounts", "create", "S", "--json").output)["account_id"]
    result = run("keys", "create", "--account", account, "--scopes", "profiles:everything")
    assert result.exit_code == 1 and "Unknown scopes" in result.output


def test_ensure_default_keeps_the_first_keys(run, tmp_path) -> None:
    path = tmp_path / "credentials.json"
    first = run("accounts", "ensure-default", "--credentials", str(path))
    second = run("accounts", "ensure-default", "--credentials", str(path))
    saved = json.loads(path.read_text())
    assert saved["private_key"] in first.output and saved["private_key"] in second.output
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert "shown once" not in second.output  # it is printed at every start
    assert f"saved in {path}, printed at every start" in second.output


def test_ensure_default_replaces_a_revoked_key(run, tmp_path, client) -> None:
    path = tmp_path / "credentials.json"
    run("accounts", "ensure-default", "--credentials", str(path))
    first = json.loads(path.read_text())
    assert run("keys", "revoke", first["private_key"]).exit_code == 0
    again = run("accounts", "ensure-default", "--credentials", str(path))
    saved = json.loads(path.read_text())
    assert saved["account_id"] == first["account_id"] and saved["private_key"] != first["private_key"]
    assert saved["private_key"] in again.output and "the saved one was revoked" in again.output
    headers = {"Authorization": f"Klaviyo-API-Key {saved['private_key']}", "revision": "2026-10-15"}
    assert client.get("/api/accounts", headers=headers).status_code == 200


def test_serve_on_a_busy_port_says_how_to_pick_another_before_printing_anything(run) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("serve", "--port", str(port), "--default-account")
    assert result.exit_code == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in result.output
    assert "make run PORT=" in result.output and "tidings serve --port" in result.output
    assert "Private key" not in result.output and "serving at" not in result.output


def test_first_start_makes_an_owner_who_can_sign_in_once_told_the_password(run, tmp_path, app) -> None:
    from tests.web.helpers import browser
    from tidings.web.cli import DEFAULT_USER

    path = tmp_path / "credentials.json"
    first = run("accounts", "ensure-default", "--credentials", str(path))
    assert first.exit_code == 0, first.output
    line = next(line for line in first.output.splitlines() if line.strip().startswith("password"))
    password = line.split()[1]
    second = run("accounts", "ensure-default", "--credentials", str(path))
    assert password not in second.output  # shown once
    assert "/app/" in second.output
    with browser(app) as client:
        signed = client.post(
            "/api/x-tidings/app/session",
            json={"data": {"type": "session", "attributes": {"email": DEFAULT_USER, "password": password}}},
        )
        assert signed.status_code == 201, signed.text
        assert signed.json()["data"]["attributes"]["role"] == "owner"
    # The password can be set again from the command line.
    assert (
        run("users", "set-password", "--email", DEFAULT_USER, "--password", "another long one").exit_code == 0
    )


def test_users_create_adds_a_person_with_a_role(run, tmp_path, app, db) -> None:
    from tests.conftest import make_account
    from tests.web.helpers import browser, sign_in

    account = make_account(db, name="CLI people")
    made = run(
        "users",
        "create",
        "--email",
        "Cleo@Example.com",
        "--password",
        "a long password",
        "--account",
        account.id,
        "--role",
        "content_creator",
    )
    assert made.exit_code == 0, made.output
    assert "cleo@example.com" in run("users", "list", "--account", account.id).output
    bad = run(
        "users",
        "create",
        "--email",
        "x@example.com",
        "--password",
        "a long password",
        "--account",
        account.id,
        "--role",
        "wizard",
    )
    assert bad.exit_code == 1 and "Unknown role" in bad.output
    with browser(app) as client:
        me = sign_in(client, "cleo@example.com", "a long password")["data"]["attributes"]
    assert me["role"] == "content_creator"
