"""Historical events from a CSV file (`tidings import events FILE.csv --metric NAME`).

Columns (names compared without case): profile identifiers (`email`, `phone_number`,
`external_id`, or the legacy `$email`, `$phone_number`, `$id`), `time` (ISO 8601 or Unix
seconds), `value` (or `$value`), `value_currency`, `unique_id` (or `$event_id`); every other
column is an event property, read as a number or `true`/`false` when it looks like one (as
the profile import reads them). Each row is checked by the rules of `create_event` (the same
model, limits and time range), so the file holds nothing the API would refuse. Rows are read
as a stream in chunks; each chunk resolves its profiles and writes its events in one
transaction. Imported events are always `backfill` (they never start flows). Rows that cannot
be imported go to a rejects file with the reason; a file that cannot be read as a whole (no
identifier or `time` column, a column named twice, text that is not UTF-8) stops with a
`BadFile` that says why.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from tidings.db.session import Database
from tidings.events.ingest.accept import normalize_event
from tidings.events.ingest.schemas import EventAttributes, MetricAttributes, unstorable_text
from tidings.events.metrics import MetricKey
from tidings.events.store import NewEvent, write_events
from tidings.inference import from_text, parse_date
from tidings.jsonapi.errors import APIError
from tidings.profiles.identifiers import check_identifiers
from tidings.profiles.identity import ProfileInput, Source, resolve_batch

CHUNK = 2000
IDENTIFIER_COLUMNS = ("email", "phone_number", "external_id")
# Header (stripped, lower-cased) -> the field it fills; any other column is a property.
FIELDS = {
    **{name: name for name in (*IDENTIFIER_COLUMNS, "time", "value", "value_currency", "unique_id")},
    "$email": "email",
    "$phone_number": "phone_number",
    "$id": "external_id",
    "$value": "value",
    "$value_currency": "value_currency",
    "$event_id": "unique_id",
}
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


@dataclass
class ImportSummary:
    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    profiles_created: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Column:
    field: str | None  # the event field it fills, or None for a property
    name: str  # the header as written (a property's name)


@dataclass
class _Row:
    line: int
    cells: list[str]
    identifiers: dict[str, str]
    event: NewEvent


class RowError(ValueError):
    """A row that cannot be imported: `kind` groups the summary, `detail` says what exactly."""

    def __init__(self, kind: str, detail: str | None = None) -> None:
        super().__init__(detail or kind)
        self.kind = kind


class BadFile(ValueError):
    """The file as a whole cannot be imported (nothing after this point was)."""


def metric_key(name: str) -> MetricKey:
    try:
        return MetricKey(MetricAttributes(name=name.strip()).name)
    except ValidationError:
        raise BadFile("--metric must be a name of 1 to 127 characters.") from None


def layout(header: list[str] | None) -> list[Column]:
    if not header or not any(name.strip() for name in header):
        raise BadFile("The file is empty: the first line must name the columns.")
    columns = [Column(FIELDS.get(name.strip().lower()), name.strip()) for name in header]
    seen: set[str] = set()
    for column in columns:
        key = column.field or column.name
        if key in seen:
            raise BadFile(f"The column {key!r} is named twice in the header.")
        seen.add(key)
    if not seen & set(IDENTIFIER_COLUMNS):
        raise BadFile(
            "No identifier column: the header needs email, phone_number or external_id "
            f"(it names {', '.join(repr(c.name) for c in columns[:8])}; is the file comma-separated?)."
        )
    if "time" not in seen:
        raise BadFile("No time column: historical events need the time each one happened.")
    return columns


def _time(text: str) -> dt.datetime:
    if text.isascii() and text.isdigit():
        try:
            return dt.datetime.fromtimestamp(int(text), dt.UTC)
        except (OverflowError, ValueError, OSError):
            raise RowError("time is out of range", f"time {text!r} is out of range (Unix seconds)") from None
    parsed = parse_date(text)
    if parsed is None:
        raise RowError("time is not a date", f"time {text!r} is neither ISO 8601 nor Unix seconds")
    return parsed


def _value(text: str) -> float:
    if not NUMBER.fullmatch(text):
        raise RowError("value is not a number", f"value {text!r} is not a number")
    return float(text)  # an overflow (1e400) is infinite, which the event's model refuses


def _problem(errors: list[APIError]) -> RowError:
    first = errors[0]
    where = (first.pointer or "").strip("/").replace("/", ".")
    return RowError(first.detail, f"{where}: {first.detail}" if where else first.detail)


def parse_row(line: int, cells: list[str], columns: list[Column], metric: MetricKey) -> _Row | None:
    """The event a row stands for, checked as `create_event` checks one; None for a blank row."""
    values: dict[str, str] = {}
    properties: dict[str, Any] = {}
    for column, cell in zip(columns, cells, strict=False):
        text = cell.strip()
        if not text:
            continue
        if column.field is None:
            properties[column.name] = from_text(text)
        else:
            values[column.field] = text
    if not values and not properties:
        return None
    checked = check_identifiers({name: values[name] for name in IDENTIFIER_COLUMNS if name in values})
    identifiers = {k: v for k, v in checked.values.items() if v is not None}
    if not identifiers:
        if checked.errors:
            raise RowError(checked.errors[0].detail, "; ".join(e.detail for e in checked.errors))
        raise RowError("no email, phone_number or external_id")
    if "time" not in values:
        raise RowError("no time", "time is required for historical events")
    when = _time(values["time"])
    document = {
        "properties": properties,
        "time": when,
        "value": _value(values["value"]) if "value" in values else None,
        "value_currency": values.get("value_currency"),
        "unique_id": values.get("unique_id"),
        "backfill": True,
        "metric": {"data": {"type": "metric", "attributes": {"name": metric.name}}},
        "profile": {"data": {"type": "profile", "attributes": identifiers}},
    }
    errors: list[APIError] = []
    unstorable_text(document, "", errors)  # a NUL (UTF-8 text holds no lone surrogate)
    if errors:
        raise _problem(errors)
    try:
        attrs = EventAttributes.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise RowError(f"{where}: {error['msg']}") from None
    checked_event = normalize_event(attrs, "", errors, True)
    if errors:
        raise _problem(errors)
    event = NewEvent(
        profile_id="",
        metric=metric,
        time=when.astimezone(dt.UTC),
        properties=properties,
        value=attrs.value,
        value_currency=checked_event.value_currency,
        unique_id=attrs.unique_id or None,
        backfill=True,
        source="import",
    )
    return _Row(line, cells, identifiers, event)


def import_events(
    db: Database,
    account_id: str,
    stream: IO[str],
    *,
    metric: str,
    rejects: IO[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    summary = ImportSummary()
    key = metric_key(metric)
    reader = csv.reader(stream)
    try:
        columns = layout(next(reader, None))
    except UnicodeDecodeError:
        raise BadFile("The header is not UTF-8 text: save the file as UTF-8.") from None
    writer = None
    if rejects is not None:
        writer = csv.writer(rejects)
        writer.writerow([*(c.name for c in columns), "line", "reason"])

    def reject(line: int, cells: list[str], error: RowError) -> None:
        summary.rejected += 1
        summary.reasons[error.kind] = summary.reasons.get(error.kind, 0) + 1
        if writer is not None:
            writer.writerow([*cells, line, str(error)])

    for chunk in _chunks(reader, summary):
        rows: list[_Row] = []
        for line, cells in chunk:
            try:
                row = parse_row(line, cells, columns, key)
            except RowError as error:
                summary.rows += 1
                reject(line, cells, error)
                continue
            if row is not None:
                summary.rows += 1
                rows.append(row)
        _write(db, account_id, rows, summary, reject)
        if progress is not None:
            progress(len(chunk))
    return summary


def _write(
    db: Database,
    account_id: str,
    rows: list[_Row],
    summary: ImportSummary,
    reject: Callable[[int, list[str], RowError], None],
) -> None:
    """One chunk: resolve its profiles and write its events, in one transaction."""
    with db.write() as session:
        inputs = [
            ProfileInput(
                email=r.identifiers.get("email"),
                phone_number=r.identifiers.get("phone_number"),
                external_id=r.identifiers.get("external_id"),
            )
            for r in rows
        ]
        resolutions = resolve_batch(session, account_id, inputs, source=Source.EVENT)
        events = []
        for row, resolution in zip(rows, resolutions, strict=True):
            if resolution.profile_id is None or not resolution.ok:
                reject(row.line, row.cells, RowError("the profile could not be resolved"))
                continue
            summary.profiles_created += int(resolution.created)
            row.event.profile_id = resolution.profile_id
            events.append(row.event)
        written = len(write_events(session, account_id, events))
    summary.imported += written
    summary.duplicates += len(events) - written


def _chunks(reader: Any, summary: ImportSummary) -> Iterator[list[tuple[int, list[str]]]]:
    chunk: list[tuple[int, list[str]]] = []
    while True:
        try:
            cells = next(reader, None)
        except UnicodeDecodeError:
            raise BadFile(
                f"The file is not UTF-8 text after line {reader.line_num}: {summary.imported} events "
                "before it were imported (importing the file again, saved as UTF-8, skips them as "
                "duplicates)."
            ) from None
        if cells is None:
            break
        chunk.append((reader.line_num, cells))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def count_rows(path: Path) -> int:
    with path.open("rb") as handle:
        return max(0, sum(1 for _ in handle) - 1)
