"""Cursors: every form the SDK sends, and keyset pages that add up to the whole ordered set."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, String, Table, delete, insert, select

from tidings.jsonapi.errors import InvalidInput
from tidings.jsonapi.pagination import Cursor, decode_cursor, encode_cursor, extract_cursor, paginate

CURSOR = Cursor("get_profiles", "next", (dt.datetime(2024, 1, 2, tzinfo=dt.UTC), "01ABC"), "-created", "x", 5)


def test_cursor_round_trips_and_is_url_safe() -> None:
    token = encode_cursor(CURSOR)
    assert "=" not in token and "+" not in token and "/" not in token
    assert decode_cursor(token, "get_profiles") == CURSOR


@pytest.mark.parametrize(
    "sent",
    [
        "{t}",
        "={t}",
        "http://127.0.0.1:8080/api/profiles?page[cursor]={t}&page[size]=1",
        "https://a.klaviyo.com/api/profiles?page%5Bcursor%5D={t}&page%5Bsize%5D=1",
        "http://host/api/profiles?filter=any(email,['a','b'])&page[cursor]={t}",
    ],
)
def test_every_form_the_sdk_sends_is_accepted(sent: str) -> None:
    token = encode_cursor(CURSOR)
    assert extract_cursor(sent.format(t=token)) == token
    assert decode_cursor(sent.format(t=token), "get_profiles") == CURSOR


@pytest.mark.parametrize("bad", ["garbage!!", "e30", "", "=", "eyJvIjoiZ2V0X2V2ZW50cyJ9"])
def test_bad_cursor_is_400_on_the_parameter(bad: str) -> None:
    with pytest.raises(InvalidInput) as info:
        decode_cursor(bad, "get_profiles")
    assert info.value.parameter == "page[cursor]"


def test_cursor_of_another_operation_is_refused() -> None:
    with pytest.raises(InvalidInput):
        decode_cursor(encode_cursor(CURSOR), "get_events")


metadata = MetaData()
rows_table = Table(
    "test_pagination_rows",
    metadata,
    Column("id", String(8), primary_key=True),
    Column("rank", Integer, nullable=True),
    Column("name", String(20), nullable=True),
)


@pytest.fixture(scope="module")
def table(db) -> Iterator[Table]:
    metadata.create_all(db.engine)
    yield rows_table
    metadata.drop_all(db.engine)


class Row:
    def __init__(self, id: str, rank: int | None) -> None:
        self.id, self.rank = id, rank


def _walk(db, column, descending: bool, size: int) -> tuple[list[str], list[str]]:
    """All ids page by page forwards, then back from the last page with prev cursors."""
    forward: list[list[str]] = []
    cursor = None
    with db.read() as session:
        while True:
            page = paginate(
                session,
                select(rows_table.c.rank, rows_table.c.id),
                operation="op",
                sort_column=column,
                id_column=rows_table.c.id,
                descending=descending,
                size=size,
                cursor=cursor,
                sort=None,
                filter_text=None,
                key_of=lambda row: (row[0], row[1]),
            )
            forward.append([r[1] for r in page.rows])
            if page.next_cursor is None:
                break
            cursor = decode_cursor(page.next_cursor, "op")
            assert len(forward) < 200
        backward: list[list[str]] = [forward[-1]]
        while page.prev_cursor is not None:
            page = paginate(
                session,
                select(rows_table.c.rank, rows_table.c.id),
                operation="op",
                sort_column=column,
                id_column=rows_table.c.id,
                descending=descending,
                size=size,
                cursor=decode_cursor(page.prev_cursor, "op"),
                sort=None,
                filter_text=None,
                key_of=lambda row: (row[0], row[1]),
            )
            backward.insert(0, [r[1] for r in page.rows])
    return [i for p in forward for i in p], [i for p in backward for i in p]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ranks=st.lists(st.one_of(st.none(), st.integers(0, 5)), max_size=25),
    descending=st.booleans(),
    size=st.integers(1, 6),
    by_id=st.booleans(),
)
def test_pages_cover_the_ordered_set_once_both_ways(db, table, ranks, descending, size, by_id) -> None:
    with db.write() as session:
        session.execute(delete(table))
        if ranks:
            session.execute(insert(table), [{"id": f"r{i:03d}", "rank": r} for i, r in enumerate(ranks)])
    items = [(r, f"r{i:03d}") for i, r in enumerate(ranks)]
    if by_id:
        expected = sorted(i for _, i in items)
    else:
        expected = [i for _, i in sorted(items, key=lambda x: (x[0] is None, x[0] or 0, x[1]))]
    if descending:
        expected.reverse()
    column = table.c.id if by_id else table.c.rank
    forward, backward = _walk(db, column, descending, size)
    assert forward == expected
    assert backward == expected


def _token(**raw: object) -> str:
    fields = {"o": "get_profiles", "d": "n", "k": ["x", "01A"], "s": None, "f": None, "n": 5, **raw}
    return base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "raw",
    [
        {"n": 101},  # get_profiles pages hold at most 100, as page[size]
        {"n": 0},
        {"n": -5},
        {"n": 5.5},
        {"n": "5"},
        {"n": True},
        {"k": [["x"], "01A"]},
        {"k": [{"a": 1}, "01A"]},
        {"k": ["x", 5]},
        {"k": [{"t": "0001-01-01T00:00:00+05:00"}, "01A"]},
        {"s": ["created"]},
        {"f": {"equals": 1}},
    ],
)
def test_altered_cursor_fields_are_400_on_the_parameter(raw: dict) -> None:
    with pytest.raises(InvalidInput) as info:
        decode_cursor(_token(**raw), "get_profiles")
    assert info.value.parameter == "page[cursor]"


def test_cursor_sizes_up_to_the_operations_maximum_are_accepted() -> None:
    assert decode_cursor(_token(n=100), "get_profiles").size == 100
    assert decode_cursor(_token(o="get_events", n=1000), "get_events").size == 1000
