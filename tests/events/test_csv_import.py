"""`tidings import events FILE.csv --metric NAME`: historical events, streamed, with a rejects file."""

from __future__ import annotations

import csv

import pytest
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


def _run(database_url: str, monkeypatch, *args: str):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TIDINGS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, ["import", "events", *args])
    finally:
        get_settings.cache_clear()


def _events(db, account_id: str) -> list[Event]:
    with db.read() as session:
        query = select(Event).where(Event.account_id == account_id).order_by(Event.time)
        return list(session.execute(query).scalars())


def test_import_events_from_csv(db, database_url, tmp_path, monkeypatch) -> None:
    account = make_account(db, name="CSV")
    path = tmp_path / "orders.csv"
    path.write_text(CSV)
    result = _run(database_url, monkeypatch, str(path), "--metric", "Placed Order", "--account", account.id)
    assert result.exit_code == 0, result.output
    assert "8 rows: 4 events imported, 1 duplicates skipped, 3 rejected" in result.output
    events = _events(db, account.id)
    assert [e.unique_id for e in events] == ["o-1", "o-2", "o-3", "o-4"]
    assert all(e.backfill for e in events)
    assert events[0].properties == {"Brand": "Acme", "Items": 3} and events[0].value == 12.5
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


def test_rows_the_api_would_refuse_are_rejected_and_the_rest_of_their_chunk_imported(
    db, database_url, tmp_path, monkeypatch
) -> None:
    account = make_account(db, name="Strict")
    wide = ",".join(f"p{i}" for i in range(401))
    rows = [
        ("inf", "2025-01-01T00:00:00Z", "inf", "u-1", "usd", ""),
        ("nan", "2025-01-01T00:00:00Z", "nan", "u-2", "", ""),
        ("huge", "2025-01-01T00:00:00Z", "1e400", "u-3", "", ""),
        ("ms", "1700000000000", "1", "u-4", "", ""),
        ("far", "99999999999999", "1", "u-5", "", ""),
        ("long-id", "2025-01-01T00:00:00Z", "1", "u" * 300, "", ""),
        ("currency", "2025-01-01T00:00:00Z", "1", "u-7", "EURO", ""),
        ("nul", "2025-01-01T00:00:00Z", "1", "u-8", "", "a\x00b"),
        ("big", "2025-01-01T00:00:00Z", "1", "u-9", "", "x" * 110_000),
        ("fine", "2025-01-01T00:00:00Z", "2.5", "u-10", "usd", "ok"),
        ("", "", "", "", "", ""),  # a blank row: skipped, not rejected
    ]
    lines = ["external_id,time,value,unique_id,value_currency,Note"]
    lines += [",".join(row) for row in rows]
    path = tmp_path / "strict.csv"
    path.write_text("\n".join(lines) + "\n")
    result = _run(database_url, monkeypatch, str(path), "--metric", "Paid", "--account", account.id)
    assert result.exit_code == 0, result.output
    assert "10 rows: 1 events imported, 0 duplicates skipped, 9 rejected" in result.output
    (event,) = _events(db, account.id)
    assert (event.unique_id, event.value, event.value_currency, event.properties) == (
        "u-10",
        2.5,
        "USD",
        {"Note": "ok"},
    )
    rejected = list(csv.reader((tmp_path / "strict.rejected.csv").open()))
    assert [row[0] for row in rejected[1:]] == [
        "inf",
        "nan",
        "huge",
        "ms",
        "far",
        "long-id",
        "currency",
        "nul",
        "big",
    ]

    path.write_text(f"email,time,{wide}\na@b.co,2025-01-01T00:00:00Z,{wide}\n")
    result = _run(database_url, monkeypatch, str(path), "--metric", "Paid", "--account", account.id)
    assert "1 rejected" in result.output and "At most 400 properties" in result.output


def test_columns_are_matched_without_case_and_legacy_names_fill_their_fields(
    db, database_url, tmp_path, monkeypatch
) -> None:
    account = make_account(db, name="Legacy")
    path = tmp_path / "legacy.csv"
    path.write_text(
        "$Email,Time,$value,$event_id,Count,Gift,Zip\nA@B.co,2025-01-01T00:00:00Z,7,e-1,3,true,02110\n"
    )
    result = _run(database_url, monkeypatch, str(path), "--metric", "  Paid  ", "--account", account.id)
    assert result.exit_code == 0, result.output
    (event,) = _events(db, account.id)
    assert (event.value, event.unique_id) == (7.0, "e-1")
    assert event.properties == {"Count": 3, "Gift": True, "Zip": "02110"}
    with db.read() as session:
        from tidings.events.tables import Metric

        assert session.get(Metric, (account.id, event.metric_id)).name == "Paid"


@pytest.mark.parametrize(
    ("content", "metric", "message"),
    [
        ("email;time\na@b.co;2025-01-01T00:00:00Z\n", "Paid", "No identifier column"),
        ("email,value\na@b.co,1\n", "Paid", "No time column"),
        ("email,time,Color,color,Color\na@b.co,2025-01-01T00:00:00Z,red,x,blue\n", "Paid", "named twice"),
        ("email,time,$email\na@b.co,2025-01-01T00:00:00Z,b@b.co\n", "Paid", "named twice"),
        ("", "Paid", "empty"),
        ("email,time\na@b.co,2025-01-01T00:00:00Z\n", "   ", "--metric"),
        ("email,time\na@b.co,2025-01-01T00:00:00Z\n", "x" * 128, "--metric"),
    ],
)
def test_a_file_that_cannot_be_read_as_a_whole_stops_with_the_reason(
    db, database_url, tmp_path, monkeypatch, content: str, metric: str, message: str
) -> None:
    account = make_account(db, name="Whole")
    path = tmp_path / "whole.csv"
    path.write_text(content)
    result = _run(database_url, monkeypatch, str(path), "--metric", metric, "--account", account.id)
    assert result.exit_code == 1 and message in result.output, result.output
    assert not (tmp_path / "whole.rejected.csv").exists()
    assert _events(db, account.id) == []


def test_text_that_is_not_utf8_stops_with_the_line(db, database_url, tmp_path, monkeypatch) -> None:
    account = make_account(db, name="Latin")
    path = tmp_path / "latin.csv"
    path.write_bytes(
        b"email,time,City\na@b.co,2025-01-01T00:00:00Z,Paris\nc@d.co,2025-01-01T00:00:00Z,Caf\xe9\n"
    )
    result = _run(database_url, monkeypatch, str(path), "--metric", "Paid", "--account", account.id)
    assert result.exit_code == 1 and "not UTF-8" in result.output, result.output
