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
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import Session

from tidings.jsonapi.errors import InvalidInput


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
    if isinstance(value, dict) and set(value) == {"t"}:
        return dt.datetime.fromisoformat(value["t"])
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
            key=(_decode_value(raw["k"][0]), str(raw["k"][1])),
            sort=raw.get("s"),
            filter=raw.get("f"),
            size=int(raw["n"]),
        )
    except (binascii.Error, ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError):
        raise _bad_cursor() from None
    if cursor.operation != operation:
        raise _bad_cursor()
    return cursor


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
