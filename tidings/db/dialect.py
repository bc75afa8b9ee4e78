"""The few statements that differ between SQLite and PostgreSQL, in one place."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import msgspec
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    Integer,
    Select,
    Table,
    Text,
    TypeDecorator,
    cast,
    func,
    or_,
    select,
    text,
)
from sqlalchemy import (
    literal as literal_text,
)
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


def insert_ignore_from_select(session: Session, table: Table, columns: Sequence[str], query: Any) -> Insert:
    """INSERT INTO table (columns) SELECT ... ON CONFLICT DO NOTHING: rows made in the database,
    a statement however many there are."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table).from_select(list(columns), query).on_conflict_do_nothing()
    return sqlite.insert(table).from_select(list(columns), query).on_conflict_do_nothing()


def zero_padded(session: Session, number: Any, width: int) -> Any:
    """An integer as text padded with zeros to `width` characters (ids made in SQL)."""
    if dialect_name(session) == "postgresql":
        return func.lpad(cast(number, Text), width, "0")
    return func.substr(literal_text("0" * width) + cast(number, Text), -width, width)


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


def upsert_many(
    session: Session, table: Table, index_elements: Sequence[str], update: Sequence[str]
) -> Insert:
    """INSERT ... ON CONFLICT (index_elements) DO UPDATE SET the `update` columns, with no values:
    run it with a list of rows (`session.execute(stmt, rows)`), compiled once however many."""
    stmt: Any
    stmt = postgresql.insert(table) if dialect_name(session) == "postgresql" else sqlite.insert(table)
    return stmt.on_conflict_do_update(
        index_elements=list(index_elements),
        set_={name: stmt.excluded[name] for name in update},
    )


class Written(NamedTuple):
    """A row a bulk upsert inserted or changed: its key, whether it existed, its old values
    (none for a new row)."""

    key: Any
    existed: bool
    old: dict[str, Any]


def bulk_upsert(
    session: Session,
    target: Table,
    rows: Sequence[dict[str, Any]],
    *,
    index_elements: Sequence[str],
    update: Sequence[str] = (),
    compare: Sequence[str] = (),
    returning: str | None = None,
    old: Sequence[str] = (),
    constants: dict[str, Any] | None = None,
) -> list[Written]:
    """Insert many rows; on a conflict update the `update` columns (only where a `compare`
    column differs), or do nothing when `update` is empty. `constants` are columns with one
    value for every row. With `returning`, tells for each row inserted or changed its
    `returning` column, whether it existed, and the values the `old` columns had before.

    PostgreSQL: one INSERT ... SELECT FROM json_to_recordset(<the rows as one JSON array>)
    ... ON CONFLICT, whose RETURNING reads the old values with one subquery per row (it sees
    the table as it was before the statement). The rows go as one JSON document because
    json.dumps is one C call, where psycopg builds per-column arrays in Python, element by
    element (measured: about half of a feed sync's client CPU). A multi-row VALUES statement
    with thousands of parameters costs several times more to parse than the writes themselves,
    and a separate lookup of the old rows can get a plan that scans.
    SQLite: the old rows are read first, then executemany of one cached statement.
    """
    if not rows:
        return []
    constants = constants or {}
    if dialect_name(session) != "postgresql":
        return _sqlite_upsert(
            session, target, rows, index_elements, update, compare, returning, old, constants
        )
    names = list(rows[0])
    fields = ", ".join(f'"{name}" {_pg_type(target.c[name].type)}' for name in names)
    selected = [f'r."{name}"' for name in names]
    values: dict[str, Any] = {"rows": _json_rows(rows)}
    for index, (name, value) in enumerate(constants.items()):
        values[f"k{index}"] = value
        selected.append(f"CAST(:k{index} AS {_pg_type(target.c[name].type)})")
    columns = ", ".join(f'"{name}"' for name in [*names, *constants])
    table_name = f'"{target.name}"'
    sql = (
        f"INSERT INTO {table_name} ({columns}) SELECT {', '.join(selected)} "
        f"FROM json_to_recordset(CAST(:rows AS json)) AS r({fields}) "
        f"ON CONFLICT ({', '.join(index_elements)}) "
    )
    if update:
        sql += "DO UPDATE SET " + ", ".join(f'"{n}" = EXCLUDED."{n}"' for n in update)
        if compare:
            sql += " WHERE " + " OR ".join(
                f'{table_name}."{n}" IS DISTINCT FROM EXCLUDED."{n}"' for n in compare
            )
    else:
        sql += "DO NOTHING"
    if not returning:
        session.execute(text(sql), values)
        return []
    # One subquery per row: NULL when the row is new, else its old values as a JSON array
    # (as text: psycopg's json loader costs several times json.loads of a str).
    same = " AND ".join(f'o."{k}" = {table_name}."{k}"' for k in index_elements)
    before = ", ".join(f'o."{c}"' for c in old)
    sql += (
        f' RETURNING {table_name}."{returning}", '
        f"(SELECT CAST(json_build_array({before}) AS text) FROM {table_name} o WHERE {same})"
    )
    convert = [_python_type(target.c[c].type) for c in old]
    written = []
    for key, found in session.execute(text(sql), values).all():  # one fetch, not one per row
        if found is None:
            written.append(Written(key, False, {}))
        else:
            olds = json.loads(found)
            written.append(
                Written(
                    key,
                    True,
                    {c: None if v is None else f(v) for c, f, v in zip(old, convert, olds, strict=True)},
                )
            )
    return written


def _json_rows(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps(rows, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be written by bulk_upsert")


class _BinaryList(list[Any]):
    """A list psycopg sends as a binary array: no per-element quoting and escaping, which for a
    batch of JSON texts cost more client CPU than the insert itself (measured: 100 us a row)."""


try:  # psycopg is installed with Tidings; registering is per type, so other lists are unchanged.
    import psycopg
    from psycopg.types.array import ListBinaryDumper

    psycopg.adapters.register_dumper(_BinaryList, ListBinaryDumper)
except ImportError:  # pragma: no cover
    pass


def _unnest(
    target: Table, rows: Sequence[dict[str, Any]], names: list[str], *, binary: bool = False
) -> tuple[dict[str, Any], list[str], str]:
    """PostgreSQL: the rows as one array parameter per column. Returns the parameters, the
    select expressions (`u.cN`, cast to the column's type) and the `unnest(...) AS u(...)` source.
    `binary` sends the arrays in binary (a column's values must then share one Python type)."""
    values: dict[str, Any] = {}
    selected: list[str] = []
    arrays: list[str] = []
    for index, name in enumerate(names):
        kind, cast = _pg_array_type(target.c[name].type)
        column_values = [row[name] for row in rows]
        if cast == "jsonb":
            column_values = [None if v is None else json.dumps(v) for v in column_values]
        elif kind == "double precision":  # an array holds one type: 42 and 42.5 are both floats
            column_values = [None if v is None else float(v) for v in column_values]
        if binary:
            column_values = _BinaryList(column_values)
        values[f"a{index}"] = column_values
        selected.append(f"u.c{index}::{cast}" if cast != kind else f"u.c{index}")
        arrays.append(f"CAST(:a{index} AS {kind}[])")
    aliases = ", ".join(f"c{i}" for i in range(len(names)))
    return values, selected, f"unnest({', '.join(arrays)}) AS u({aliases})"


def bulk_insert(session: Session, target: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT many rows (every row has the same keys); a unique violation raises as usual.

    PostgreSQL: one INSERT ... SELECT FROM unnest(<one array per column>) (see bulk_upsert for
    why not a multi-row VALUES); SQLite: executemany of one cached statement."""
    if not rows:
        return
    if dialect_name(session) != "postgresql":
        session.execute(target.insert(), list(rows))
        return
    # A column that is null in every row is left out (it is null by default): fewer arrays to send.
    names = [
        name
        for name in rows[0]
        if target.c[name].server_default is not None or any(row[name] is not None for row in rows)
    ]
    values, selected, source = _unnest(target, rows, names, binary=True)
    columns = ", ".join(f'"{name}"' for name in names)
    session.execute(
        text(f'INSERT INTO "{target.name}" ({columns}) SELECT {", ".join(selected)} FROM {source}'), values
    )


def bulk_update(
    session: Session, target: Table, rows: Sequence[dict[str, Any]], *, keys: Sequence[str]
) -> None:
    """UPDATE many rows, each found by its `keys` columns, setting its other columns (every
    row has the same keys). PostgreSQL: one UPDATE ... FROM unnest(...); SQLite: executemany."""
    if not rows:
        return
    names = list(rows[0])
    changed = [name for name in names if name not in keys]
    if not changed:
        return
    if dialect_name(session) != "postgresql":
        from sqlalchemy import bindparam, update

        stmt = (
            update(target)
            .where(*[target.c[k] == bindparam(f"k_{k}") for k in keys])
            .values({name: bindparam(f"v_{name}") for name in changed})
        )
        params = [{**{f"k_{k}": row[k] for k in keys}, **{f"v_{n}": row[n] for n in changed}} for row in rows]
        session.execute(stmt, params)
        return
    values, selected, source = _unnest(target, rows, names, binary=True)
    column = {name: selected[i] for i, name in enumerate(names)}
    table_name = f'"{target.name}"'
    assignments = ", ".join(f'"{name}" = {column[name]}' for name in changed)
    matches = " AND ".join(f'{table_name}."{k}" = {column[k]}' for k in keys)
    session.execute(text(f"UPDATE {table_name} SET {assignments} FROM {source} WHERE {matches}"), values)


def bulk_raise(
    session: Session, target: Table, rows: Sequence[dict[str, Any]], *, keys: Sequence[str], column: str
) -> None:
    """Raise `column` to each row's value where the stored one is NULL or smaller (rows: the `keys`
    columns and `column`). PostgreSQL: one UPDATE ... FROM unnest(...), in key order (measured:
    an executemany of 1,000 single-row UPDATEs cost 2.5 times the whole batch's event insert);
    SQLite: executemany of one cached statement."""
    if not rows:
        return
    names = [*keys, column]
    ordered = sorted(rows, key=lambda row: tuple(row[k] for k in keys))
    if dialect_name(session) != "postgresql":
        from sqlalchemy import bindparam, update

        stored = target.c[column]
        stmt = (
            update(target)
            .where(
                *[target.c[k] == bindparam(f"k_{k}") for k in keys],
                or_(stored.is_(None), stored < bindparam("v_new")),
            )
            .values({column: bindparam("v_new")})
        )
        params = [{**{f"k_{k}": row[k] for k in keys}, "v_new": row[column]} for row in ordered]
        session.execute(stmt, params)
        return
    values, selected, source = _unnest(target, ordered, names, binary=True)
    new = selected[-1]
    table_name = f'"{target.name}"'
    matches = " AND ".join(f'{table_name}."{k}" = {selected[i]}' for i, k in enumerate(keys))
    session.execute(
        text(
            f'UPDATE {table_name} SET "{column}" = {new} FROM {source} WHERE {matches} '
            f'AND ({table_name}."{column}" IS NULL OR {table_name}."{column}" < {new})'
        ),
        values,
    )


def _json_text(value: Any) -> str | None:
    """A JSON column's value as text for COPY. msgspec writes it several times faster than
    `json.dumps` (a tenth of the event processor's CPU went here). A NaN or infinity, which
    jsonb cannot hold (ingestion refuses them), is written as null instead of failing the batch."""
    if value is None:
        return None
    try:
        return msgspec.json.encode(value).decode()
    except (TypeError, msgspec.EncodeError):  # a type msgspec does not know: what json.dumps makes of it
        return json.dumps(value)


def bulk_insert_ignore(
    session: Session,
    target: Table,
    rows: Sequence[dict[str, Any]],
    *,
    index_elements: Sequence[str],
    returning: str,
) -> list[Any]:
    """Insert many rows, skipping those that conflict on `index_elements`; returns the `returning`
    column of the rows actually inserted.

    PostgreSQL: the rows are copied (COPY) into a temporary table of the same shape, then moved
    with one INSERT ... SELECT ... ON CONFLICT DO NOTHING. Measured on 5,000 events: a quarter
    of the client CPU of sending one array per column, and under half the time overall.
    SQLite: executemany of one cached statement (SQLAlchemy batches it under SQLite's parameter
    limit)."""
    if not rows:
        return []
    if dialect_name(session) != "postgresql":
        stmt = (
            sqlite.insert(target)
            .on_conflict_do_nothing(index_elements=list(index_elements))
            .returning(target.c[returning])
        )
        return [row[0] for row in session.execute(stmt, list(rows))]
    names = list(rows[0])
    jsons = {name for name in names if isinstance(target.c[name].type, JSON)}
    stage = f'"tidings_stage_{target.name}"'
    columns = ", ".join(f'"{name}"' for name in names)
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor:
        # Session-private and emptied at commit; emptied here too, as one transaction may stage twice.
        cursor.execute(
            f'CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE "{target.name}" INCLUDING DEFAULTS) '
            "ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY {stage} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_json_text(row[n]) if n in jsons else row[n] for n in names])
        cursor.execute(
            f'INSERT INTO "{target.name}" ({columns}) SELECT {columns} FROM {stage} '
            f'ON CONFLICT ({", ".join(index_elements)}) DO NOTHING RETURNING "{returning}"'
        )
        inserted = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"DELETE FROM {stage}")
    return inserted


def _sqlite_upsert(
    session: Session,
    target: Table,
    rows: Sequence[dict[str, Any]],
    index_elements: Sequence[str],
    update: Sequence[str],
    compare: Sequence[str],
    returning: str | None,
    old: Sequence[str],
    constants: dict[str, Any],
) -> list[Written]:
    params = [{**row, **constants} for row in rows] if constants else list(rows)
    before: dict[Any, dict[str, Any]] = {}
    if returning:
        # The key is (constants..., returning): the callers' conflict keys are account + id.
        keys = sorted({row[returning] for row in params})
        scope = [target.c[name] == value for name, value in constants.items() if name in index_elements]
        cols = [target.c[returning], *[target.c[c] for c in old]]
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            for found in session.execute(select(*cols).where(*scope, target.c[returning].in_(chunk))):
                before[found[0]] = dict(zip(old, found[1:], strict=True))
    stmt: Any = _on_conflict(sqlite.insert(target), target, index_elements, update, compare)
    if not returning:
        session.execute(stmt, params)
        return []
    written = [row[0] for row in session.execute(stmt.returning(target.c[returning]), params)]
    return [Written(key, key in before, before.get(key, {})) for key in written]


def _pg_type(type_: Any) -> str:
    """The type a column's values are read as from the JSON rows (PostgreSQL casts them on insert)."""
    if isinstance(type_, JSON):
        return "jsonb"
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl
    if isinstance(type_, Boolean):
        return "boolean"
    if isinstance(type_, Integer):
        return "bigint"
    if isinstance(type_, Float):
        return "double precision"
    if isinstance(type_, DateTime):
        return "timestamptz"
    return "text"


def _pg_array_type(type_: Any) -> tuple[str, str]:
    """(the element type a column's values are sent as in an array, the column's type)."""
    cast = _pg_type(type_)
    return ("text" if cast == "jsonb" else cast), cast


def _python_type(type_: Any) -> Callable[[Any], Any]:
    """What an old value read back as JSON becomes again (JSON writes 5.0 as 5)."""
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl
    if isinstance(type_, Float):
        return float
    if isinstance(type_, DateTime):
        return dt.datetime.fromisoformat
    return _same


def _same(value: Any) -> Any:
    return value


def _on_conflict(
    stmt: Any, target: Table, index_elements: Sequence[str], update: Sequence[str], compare: Sequence[str]
) -> Any:
    if not update:
        return stmt.on_conflict_do_nothing(index_elements=list(index_elements))
    where = or_(*[target.c[n].is_distinct_from(stmt.excluded[n]) for n in compare]) if compare else None
    return stmt.on_conflict_do_update(
        index_elements=list(index_elements), set_={n: stmt.excluded[n] for n in update}, where=where
    )


def refresh_statistics(session: Session, table: Table) -> None:
    """PostgreSQL: ANALYZE the table, so the planner knows its size and its values.

    For bulk loads: a table that grows by orders of magnitude in minutes keeps the statistics of
    when it was small until autovacuum (if it runs at all) gets to it, and a lookup of 2,000
    emails was planned as a scan of the account's whole range (measured at 1,000,000 profiles:
    255 ms before ANALYZE, 3.5 ms after). SQLite: nothing (its planner needs no statistics to
    use a unique index)."""
    if dialect_name(session) == "postgresql":
        session.execute(text(f'ANALYZE "{table.name}"'))


def plan_each_time(session: Session) -> None:
    """PostgreSQL: plan this transaction's statements for their actual parameters.

    psycopg prepares a statement after five executions and PostgreSQL may then reuse a generic
    plan made while a table was small: a lookup of a batch of emails then walked the account's
    whole index range, slower with every batch (measured: 2 to 6 s per batch of 2,000 after
    60,000 profiles were created, until autoanalyze ran). Custom plans cost a little planning."""
    if dialect_name(session) == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def stored_length(session: Session, column: Any) -> Any:
    """The length of a text column's value, cheaply: on PostgreSQL its size in bytes, read from a
    compressed (TOASTed) value's header, where length() counts characters and so decompresses the
    whole value (a claim sizes every bulk payload it scans, about 150 KB each); SQLite: length()."""
    if dialect_name(session) == "postgresql":
        return func.octet_length(column)
    return func.length(column)


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


def in_values(session: Session, column: Any, values: Sequence[Any]) -> Any:
    """`column IN (values)`; on PostgreSQL `column = ANY(array)`, one parameter however many values
    (a thousand-value IN list costs more to send and plan than the lookup itself), sent as a
    binary array (the values must share one Python type)."""
    if dialect_name(session) == "postgresql":
        from sqlalchemy import any_, bindparam, cast
        from sqlalchemy.types import NullType

        array = bindparam(None, _BinaryList(values), type_=NullType())
        return column == any_(cast(array, postgresql.ARRAY(column.type)))
    return column.in_(list(values))


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


def utc_day(session: Session, column: Any) -> Any:
    """A timestamp column's UTC day as `YYYY-MM-DD` text (SQLite stores naive UTC text)."""
    if dialect_name(session) == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.substr(column, 1, 10)


def epoch_seconds(session: Session, column: Any) -> Any:
    """A timestamp column as seconds since 1970 (for differences between two instants)."""
    from sqlalchemy import extract, func

    if dialect_name(session) == "postgresql":
        return extract("epoch", column)
    return (func.julianday(column) - 2440587.5) * 86400.0


def json_array_field(session: Session, column: Any, key: str, field: str) -> tuple[Any, Any, Any]:
    """The elements of a top-level array property, for a join: `(elements, text, condition)`,
    where `text` is each element's `field` as text (NULL when the element is not an object or
    lacks it) and `condition` holds when the property is an array.

        select(Event.profile_id, text).select_from(Event).join(elements, true()).where(condition)
    """
    from sqlalchemy import String, case, func, literal

    if dialect_name(session) == "postgresql":
        value = column.op("->")(literal(key))
        is_array = func.jsonb_typeof(value) == "array"
        safe = case((is_array, value), else_=text("'[]'::jsonb"))
        elements = func.jsonb_array_elements(safe).table_valued("value").lateral()
        member = elements.c.value.op("->")(literal(field))
        scalar = func.jsonb_typeof(member).in_(["string", "number", "boolean"])
        return elements, case((scalar, elements.c.value.op("->>")(literal(field)))), is_array
    path = _sqlite_path(key)
    each = func.json_each(column, path).table_valued("value", "fullkey")
    field_path = each.c.fullkey.concat(literal('."' + field.replace('"', '\\"') + '"'))
    kind = func.json_type(column, field_path)
    extracted = case(
        (kind.in_(["object", "array"]), literal(None)),
        (kind == "true", literal("true")),
        (kind == "false", literal("false")),
        else_=cast(func.json_extract(column, field_path), String),
    )
    return each, extracted, func.json_type(column, path) == "array"
