"""Opaque, self-contained cursors and keyset pagination.

A cursor carries the operation, sort, filter, page size and the key of the row it starts
after, so a client that only echoes `page[cursor]` (the SDK's wrapper does) gets the same
listing. The SDK may send the cursor bare, with a leading `=`, or as the whole `links.next`
URL; all three are accepted.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import Session

from tidings.jsonapi.errors import InvalidInput
from tidings.jsonapi.spec import operation as spec_operation

LARGEST_PAGE = 1000  # the largest page[size] the spec allows anywhere


@dataclass(frozen=True)
class Cursor:
    operation: str
    direction: str  # "next" rows after `key`, "prev" rows before it
    key: tuple[Any, str]
    sort: str | None
    filter: str | None
    size: int


def _bad_cursor() -> InvalidInput:
    return InvalidInput("The page cursor is invalid or has expired.", parameter="page[cursor]")


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    """A sort key as encoded: a datetime (in UTC, so it can be bound) or a JSON scalar."""
    if isinstance(value, dict) and set(value) == {"t"}:
        when = dt.datetime.fromisoformat(value["t"])
        return when.astimezone(dt.UTC) if when.tzinfo else when.replace(tzinfo=dt.UTC)
    if value is not None and not isinstance(value, str | int | float | bool):
        raise ValueError("not a sort key")
    return value


def _largest_page(operation: str) -> int:
    try:
        return spec_operation(operation).page_max or LARGEST_PAGE
    except KeyError:  # an operation the spec does not know (tests, internal listings)
        return LARGEST_PAGE


def _optional_text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError("not text")
    return value


def encode_cursor(cursor: Cursor) -> str:
    raw = {
        "o": cursor.operation,
        "d": cursor.direction[0],
        "k": [_encode_value(cursor.key[0]), cursor.key[1]],
        "s": cursor.sort,
        "f": cursor.filter,
        "n": cursor.size,
    }
    data = json.dumps(raw, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def extract_cursor(value: str) -> str:
    """The bare cursor out of what the SDK sends (bare, `=cursor`, or a whole URL)."""
    value = value.strip()
    for marker in ("page[cursor]=", "page%5Bcursor%5D="):
        if marker in value:
            query = urlsplit(value).query if "://" in value else value.split("?", 1)[-1]
            found = parse_qs(unquote(query) if "%5B" in query else query).get("page[cursor]")
            if found:
                return found[0]
            return value.split(marker, 1)[1].split("&", 1)[0]
    return value[1:] if value.startswith("=") else value


def decode_cursor(value: str, operation: str) -> Cursor:
    token = extract_cursor(value)
    try:
        padded = token + "=" * (-len(token) % 4)
        raw = json.loads(base64.urlsafe_b64decode(padded.encode()))
        cursor = Cursor(
            operation=raw["o"],
            direction="prev" if raw["d"] == "p" else "next",
            key=(_decode_value(raw["k"][0]), raw["k"][1]),
            sort=_optional_text(raw.get("s")),
            filter=_optional_text(raw.get("f")),
            size=raw["n"],
        )
    except (binascii.Error, ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError, OverflowError):
        raise _bad_cursor() from None
    if cursor.operation != operation or not isinstance(cursor.key[1], str):
        raise _bad_cursor()
    # The page size is bounded as page[size] is: an altered cursor cannot ask for more.
    if type(cursor.size) is not int or not 1 <= cursor.size <= _largest_page(operation):
        raise _bad_cursor()
    return cursor


def _key_fits(col: Any, id_col: Any, value: Any) -> bool:
    """Whether a cursor's sort key has the type the sort column holds (a hand-altered cursor
    may carry anything JSON can)."""
    if col is id_col or value is None:  # the id alone orders; rows without a value sort last
        return True
    try:
        expected = getattr(col.type, "impl_instance", col.type).python_type  # under a TypeDecorator
    except (AttributeError, NotImplementedError):
        return not isinstance(value, dt.datetime)
    if issubclass(expected, dt.datetime):
        return isinstance(value, dt.datetime)
    if issubclass(expected, bool):
        return isinstance(value, bool)
    if issubclass(expected, int | float | decimal.Decimal):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, expected)


@dataclass
class Page:
    rows: list[Any]
    next_cursor: str | None
    prev_cursor: str | None


def _after(col: Any, id_col: Any, value: Any, last_id: str, forward: bool) -> ColumnElement[bool]:
    """Rows after (value, last_id) in the order `col NULLS LAST, id`, or before it when not forward.

    When col is the id itself, value equals last_id and the comparison reduces to the id.
    """
    if col is id_col:
        return id_col > last_id if forward else id_col < last_id
    if forward:
        if value is None:
            return and_(col.is_(None), id_col > last_id)
        return or_(col > value, and_(col == value, id_col > last_id), col.is_(None))
    if value is None:
        return or_(col.is_not(None), and_(col.is_(None), id_col < last_id))
    return or_(col < value, and_(col == value, id_col < last_id))


def _ordered(stmt: Select[Any], col: Any, id_col: Any, ascending: bool) -> Select[Any]:
    if col is id_col:
        return stmt.order_by(id_col.asc() if ascending else id_col.desc())
    null_rank = col.is_(None)
    if ascending:
        return stmt.order_by(null_rank.asc(), col.asc(), id_col.asc())
    return stmt.order_by(null_rank.desc(), col.desc(), id_col.desc())


def paginate(
    session: Session,
    stmt: Select[Any],
    *,
    operation: str,
    sort_column: Any,
    id_column: Any,
    descending: bool,
    size: int,
    cursor: Cursor | None,
    sort: str | None,
    filter_text: str | None,
    key_of: Any = None,
) -> Page:
    """Run `stmt` one page at a time in the order (sort_column, id_column).

    `key_of(row)` returns the row's (sort value, id); by default row[0] is an ORM object
    with attributes named like the columns.
    """

    def key(row: Any) -> tuple[Any, str]:
        if key_of is not None:
            return key_of(row)
        return getattr(row, sort_column.key), getattr(row, id_column.key)

    going_back = cursor is not None and cursor.direction == "prev"
    ascending = descending == going_back  # a backwards page walks the order in reverse
    query = stmt
    if cursor is not None:
        value, last_id = cursor.key
        if not _key_fits(sort_column, id_column, value):
            raise _bad_cursor()
        query = query.where(_after(sort_column, id_column, value, last_id, forward=ascending))
    query = _ordered(query, sort_column, id_column, ascending).limit(size + 1)
    rows = list(session.execute(query).scalars() if key_of is None else session.execute(query))
    more = len(rows) > size
    rows = rows[:size]
    if going_back:
        rows.reverse()

    def make(direction: str, row: Any) -> str:
        return encode_cursor(Cursor(operation, direction, key(row), sort, filter_text, size))

    has_next = (more and not going_back) or (going_back and cursor is not None)
    has_prev = (cursor is not None and not going_back) or (going_back and more)
    return Page(
        rows=rows,
        next_cursor=make("next", rows[-1]) if rows and has_next else None,
        prev_cursor=make("prev", rows[0]) if rows and has_prev else None,
    )
