"""`tidings import events FILE.csv --metric NAME`: historical events, streamed, with a rejects file."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import make_account
from tidings.cli import app
from tidings.config import get_settings
from tidings.events.tables import Event

CSV = """email,phone_number,external_id,time,value,unique_id,Brand,Items
ada@example.com,,,2025-01-02T10:00:00Z,12.5,o-1,Acme,3
ADA@example.com,,,1735812000,4,o-2,Acme,1
,+16175551234,,2025-01-03 09:30:00,,o-3,Other,2
,,ext-7,2025-01-04T00:00:00+02:00,1,o-4,,
nobody,,,2025-01-05T00:00:00Z,1,o-5,Acme,1
bob@example.com,,,not a date,1,o-6,Acme,1
bob@example.com,,,2025-01-05T00:00:00Z,lots,o-7,Acme,1
ada@example.com,,,2025-01-02T10:00:00Z,12.5,o-1,Acme,3
"""


def test_import_events_from_csv(db, database_url, tmp_path, monkeypatch) -> None:
    account = make_account(db, name="CSV")
    path = tmp_path / "orders.csv"
    path.write_text(CSV)
    monkeypatch.setenv("TIDINGS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["import", "events", str(path), "--metric", "Placed Order", "--account", account.id]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "8 rows: 4 events imported, 1 duplicates skipped, 3 rejected" in result.output
    with db.read() as session:
        events = (
            session.execute(select(Event).where(Event.account_id == account.id).order_by(Event.time))
            .scalars()
            .all()
        )
    assert [e.unique_id for e in events] == ["o-1", "o-2", "o-3", "o-4"]
    assert all(e.backfill for e in events)
    assert events[0].properties == {"Brand": "Acme", "Items": "3"} and events[0].value == 12.5
    assert events[0].profile_id == events[1].profile_id  # emails are case-insensitive
    assert events[3].time.isoformat() == "2025-01-03T22:00:00+00:00"
    rejected = (tmp_path / "orders.rejected.csv").read_text().splitlines()
    assert len(rejected) == 4 and "reason" in rejected[0]
    assert any("Invalid email" in line for line in rejected)
    assert any("not a date" in line for line in rejected)
    assert any("not a number" in line for line in rejected)


def test_import_needs_an_account_when_there_are_several(db, database_url, tmp_path, monkeypatch) -> None:
    make_account(db)
    path = tmp_path / "e.csv"
    path.write_text("email,time\na@b.co,2025-01-01T00:00:00Z\n")
    monkeypatch.setenv("TIDINGS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["import", "events", str(path), "--metric", "X"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1 and "--account" in result.output
