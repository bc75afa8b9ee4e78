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
