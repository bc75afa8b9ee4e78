"""`tidings import profiles FILE.csv [--list NAME_OR_ID]`: streamed, with a summary and a rejects file."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import make_account
from tidings.cli import app
from tidings.config import get_settings
from tidings.consent.tables import Subscription
from tidings.lists.service import create_list
from tidings.lists.tables import ListMember
from tidings.profile_imports import csv_import
from tidings.profiles import property_types
from tidings.profiles.identity import ProfileInput, Source, resolve_batch
from tidings.profiles.tables import Profile

CSV = """Email,First Name,last_name,Phone Number,$id,City,Zip Code,Country,Plan,Visits,Score,Vip,Signed Up,Code
ada@example.com,Ada,Lovelace,,,Boston,02110,US,gold,3,4.5,true,2024-05-01,007
BOB@example.com,Bob,,+1 617 555 0134,,,,,silver,1,,false,,
,,,,ext-9,,,,bronze,,,,,
not-an-email,X,,,,,,,gold,,,,,
,Nobody,,,,,,,gold,,,,,
carol@example.com,Carol,,+1 555,,,,,gold,,,,,

ada@example.com,Ada L.,,,,,,,platinum,,,,,
"""


@pytest.fixture
def run(monkeypatch, database_url):
    monkeypatch.setenv("TIDINGS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(app, ["import", "profiles", *args])
    get_settings.cache_clear()


def _profiles(db, account_id: str) -> dict[str, Profile]:  # type: ignore[no-untyped-def]
    with db.read() as session:
        rows = session.execute(select(Profile).where(Profile.account_id == account_id)).scalars().all()
    return {p.email or p.external_id or "": p for p in rows}


def test_import_profiles_from_csv(db, run, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(csv_import, "CHUNK", 3)  # several chunks, two in flight on PostgreSQL
    account = make_account(db, name="CSV profiles")
    with db.write() as session:
        [existing] = resolve_batch(
            session, account.id, [ProfileInput(email="bob@example.com")], source=Source.API
        )
        group = create_list(session, account.id, "CSV list", "double_opt_in")
    path = tmp_path / "people.csv"
    path.write_text(CSV)
    result = run(str(path), "--account", account.id, "--list", "CSV list")
    assert result.exit_code == 0, result.output
    assert "7 rows: 4 profiles imported (2 created, 2 updated), added to list" in result.output
    assert "3 rejected" in result.output

    people = _profiles(db, account.id)
    assert set(people) == {"ada@example.com", "bob@example.com", "ext-9"}
    ada = people["ada@example.com"]
    assert (ada.first_name, ada.last_name) == ("Ada L.", "Lovelace")  # a later row updates, blanks keep
    assert ada.location == {"city": "Boston", "zip": "02110", "country": "US"}
    assert ada.properties == {
        "Plan": "platinum",
        "Visits": 3,
        "Score": 4.5,
        "Vip": True,
        "Signed Up": "2024-05-01",
        "Code": "007",
    }
    bob = people["bob@example.com"]
    assert bob.id == existing.profile_id and bob.phone_number == "+16175550134"
    assert bob.properties == {"Plan": "silver", "Visits": 1, "Vip": False}
    with db.read() as session:
        types = property_types.types(session, account.id)
        members = set(
            session.execute(select(ListMember.profile_id).where(ListMember.list_id == group.id)).scalars()
        )
        consent = session.execute(select(Subscription).where(Subscription.account_id == account.id)).all()
    assert types["Visits"] == "number" and types["Vip"] == "boolean" and types["Signed Up"] == "date"
    assert members == {p.id for p in people.values()}
    assert consent == []  # joining a list never changes consent

    rejected = (tmp_path / "people.rejected.csv").read_text().splitlines()
    assert rejected[0].endswith(",line,reason") and len(rejected) == 4
    assert (
        rejected[1].startswith("not-an-email,X") and ",5," in rejected[1] and "Invalid email" in rejected[1]
    )
    assert "at least one identifier" in rejected[2]
    assert "Invalid phone number" in rejected[3]


def test_unknown_list_and_clean_run(db, run, tmp_path) -> None:
    account = make_account(db, name="CSV 2")
    path = tmp_path / "ok.csv"
    path.write_text("email\nz@example.com\n")
    result = run(str(path), "--account", account.id, "--list", "Nope")
    assert result.exit_code == 1 and "No list" in result.output
    result = run(str(path), "--account", account.id)
    assert (
        result.exit_code == 0
        and "1 rows: 1 profiles imported (1 created, 0 updated), 0 rejected" in result.output
    )
    assert not (tmp_path / "ok.rejected.csv").exists()


def test_later_rows_win_across_chunks(db, run, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(csv_import, "CHUNK", 2)  # on PostgreSQL, chunks go to two processes
    account = make_account(db, name="CSV order")
    people = ["p1@example.com", "P2@example.com", "p3@example.com"]
    lines = ["email,Step"] + [f"{people[n % 3]},{n}" for n in range(40)]
    path = tmp_path / "order.csv"
    path.write_text("\n".join(lines) + "\n")
    result = run(str(path), "--account", account.id)
    assert result.exit_code == 0, result.output
    steps = {email: p.properties["Step"] for email, p in _profiles(db, account.id).items()}
    assert steps == {"p1@example.com": 39, "p2@example.com": 37, "p3@example.com": 38}
