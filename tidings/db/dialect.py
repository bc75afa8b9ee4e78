"""The few statements that differ between SQLite and PostgreSQL, in one place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


def insert_ignore(session: Session, table: Table, rows: Sequence[dict[str, Any]] | dict[str, Any]) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING, for the session's database."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table).values(rows).on_conflict_do_nothing()
    return sqlite.insert(table).values(rows).on_conflict_do_nothing()


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]] | dict[str, Any],
    index_elements: Sequence[str],
    update: Sequence[str],
) -> Insert:
    """INSERT ... ON CONFLICT (index_elements) DO UPDATE SET the `update` columns."""
    stmt: Any
    stmt = postgresql.insert(table) if dialect_name(session) == "postgresql" else sqlite.insert(table)
    stmt = stmt.values(rows)
    return stmt.on_conflict_do_update(
        index_elements=list(index_elements),
        set_={name: stmt.excluded[name] for name in update},
    )


def skip_locked(session: Session, stmt: Select[Any]) -> Select[Any]:
    """Row locks that other workers skip; SQLite has one writer, so it needs none."""
    if dialect_name(session) == "postgresql":
        return stmt.with_for_update(skip_locked=True)
    return stmt


def json_text(session: Session, column: Any, key: str) -> Any:
    """The text of a top-level JSON property (NULL when absent), for grouping and comparing."""
    from sqlalchemy import String, case, cast, func, literal

    if dialect_name(session) == "postgresql":
        return column.op("->>")(literal(key))
    path = '$."' + key.replace('"', '\\"') + '"'
    # Same text as PostgreSQL's ->>: booleans as true/false, numbers and strings as text.
    kind = func.json_type(column, path)
    return case(
        (kind == "true", literal("true")),
        (kind == "false", literal("false")),
        else_=cast(func.json_extract(column, path), String),
    )


def json_kind(session: Session, column: Any, key: str) -> Any:
    """The JSON type of a top-level property, the same words on both databases:
    'string', 'number', 'boolean', 'array', 'object', 'null'; NULL when absent."""
    from sqlalchemy import case, func, literal

    if dialect_name(session) == "postgresql":
        return func.jsonb_typeof(column.op("->")(literal(key)))
    kind = func.json_type(column, _sqlite_path(key))
    return case(
        (kind == "text", literal("string")),
        (kind.in_(["integer", "real"]), literal("number")),
        (kind.in_(["true", "false"]), literal("boolean")),
        else_=kind,
    )


def json_number(session: Session, column: Any, key: str) -> Any:
    """A top-level property as a number when it is a JSON number, else NULL (never an error)."""
    from sqlalchemy import Float, case, cast

    return case((json_kind(session, column, key) == "number", cast(json_text(session, column, key), Float)))


def json_array_length(session: Session, column: Any, key: str) -> Any:
    """The length of a top-level array property; NULL when it is not an array."""
    from sqlalchemy import case, func, literal

    is_array = json_kind(session, column, key) == "array"
    if dialect_name(session) == "postgresql":
        return case((is_array, func.jsonb_array_length(column.op("->")(literal(key)))))
    return case((is_array, func.json_array_length(column, _sqlite_path(key))))


def json_array_any(session: Session, column: Any, key: str, condition: Any) -> Any:
    """EXISTS an element of a top-level array property for which `condition(text)` holds; the
    element as text (booleans as true/false, as PostgreSQL writes them). False when no array."""
    from sqlalchemy import String, case, cast, func, literal, select, text

    if dialect_name(session) == "postgresql":
        value = column.op("->")(literal(key))
        safe = case((func.jsonb_typeof(value) == "array", value), else_=text("'[]'::jsonb"))
        elements = func.jsonb_array_elements_text(safe).table_valued("value")
        return select(literal(1)).select_from(elements).where(condition(elements.c.value)).exists()
    each = func.json_each(column, _sqlite_path(key)).table_valued("value", "type")
    as_text = case(
        (each.c.type == "true", literal("true")),
        (each.c.type == "false", literal("false")),
        else_=cast(each.c.value, String),
    )
    kind = json_kind(session, column, key)
    return select(literal(1)).select_from(each).where(kind == "array", condition(as_text)).exists()


def _sqlite_path(key: str) -> str:
    return '$."' + key.replace('"', '\\"') + '"'


def epoch_seconds(session: Session, column: Any) -> Any:
    """A timestamp column as seconds since 1970 (for differences between two instants)."""
    from sqlalchemy import extract, func

    if dialect_name(session) == "postgresql":
        return extract("epoch", column)
    return (func.julianday(column) - 2440587.5) * 86400.0
