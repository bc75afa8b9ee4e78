"""The bulk statements of tidings/db/dialect.py and ULIDs, on the suite's database."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tests.conftest import make_account
from tidings.db.dialect import bulk_insert, bulk_update
from tidings.db.ids import ulid
from tidings.profiles.tables import PROFILES

T0 = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def _row(account_id: str, n: int, **values: object) -> dict[str, object]:
    row: dict[str, object] = {name.name: None for name in PROFILES.columns}
    row.update(
        account_id=account_id,
        id=f"{n:026d}",
        email=f"bulk{n}@example.com",
        properties={"n": n, "quote": 'a "b" \\c'},
        created=T0,
        updated=T0,
    )
    row.update(values)
    return row


def test_bulk_insert_then_update(db) -> None:
    account = make_account(db).id
    with db.write() as session:
        bulk_insert(session, PROFILES, [_row(account, n) for n in range(3)])
        bulk_update(
            session,
            PROFILES,
            [
                {
                    "account_id": account,
                    "id": f"{n:026d}",
                    "first_name": f"N{n}",
                    "location": {"zip": "02110"},
                }
                for n in (0, 2)
            ],
            keys=("account_id", "id"),
        )
        bulk_update(
            session,
            PROFILES,
            [{"account_id": account, "id": f"{1:026d}", "email": None}],
            keys=("account_id", "id"),
        )
    with db.read() as session:
        rows = {
            r.id: r
            for r in session.execute(select(PROFILES).where(PROFILES.c.account_id == account)).mappings()
        }
    assert [rows[f"{n:026d}"]["first_name"] for n in range(3)] == ["N0", None, "N2"]
    assert rows[f"{0:026d}"]["location"] == {"zip": "02110"}
    assert rows[f"{1:026d}"]["email"] is None and rows[f"{2:026d}"]["email"] == "bulk2@example.com"
    assert rows[f"{0:026d}"]["properties"] == {"n": 0, "quote": 'a "b" \\c'}
    assert rows[f"{0:026d}"]["created"] == T0


def test_bulk_insert_raises_on_a_duplicate(db) -> None:
    account = make_account(db).id
    with pytest.raises(IntegrityError), db.write() as session:
        bulk_insert(session, PROFILES, [_row(account, 1), _row(account, 2, email="bulk1@example.com")])


def test_ulids_are_crockford_and_time_ordered() -> None:
    first = ulid(1_700_000_000_000)
    assert (
        len(first) == 26
        and first.startswith("01HF")
        and set(first) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    )
    assert ulid(0)[:10] == "0000000000"
    now = ulid()
    time.sleep(0.002)
    assert ulid() > now > first
