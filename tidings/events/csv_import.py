"""Historical events from a CSV file (`tidings import events FILE.csv --metric NAME`).

Columns: profile identifiers (`email`, `phone_number`, `external_id`), `time` (ISO 8601 or
Unix seconds), `value`, `value_currency`, `unique_id` (or `$event_id`); every other column
is an event property. Rows are read as a stream in chunks; each chunk resolves its profiles
and writes its events in one transaction. Imported events are always `backfill` (they never
start flows). Rows that cannot be imported go to a rejects file with the reason.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tidings.db.session import Database
from tidings.events.metrics import MetricKey
from tidings.events.store import NewEvent, write_events
from tidings.inference import parse_date
from tidings.profiles.identifiers import check_identifiers
from tidings.profiles.identity import ProfileInput, Source, resolve_batch

CHUNK = 2000
IDENTIFIER_COLUMNS = ("email", "phone_number", "external_id")
RESERVED = {*IDENTIFIER_COLUMNS, "time", "value", "value_currency", "unique_id", "$event_id"}
OLDEST = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)


@dataclass
class ImportSummary:
    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    profiles_created: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass
class _Row:
    line: int
    raw: dict[str, str]
    identifiers: dict[str, str]
    event: NewEvent


class RowError(ValueError):
    pass


def _time(text: str) -> dt.datetime:
    text = text.strip()
    if text.isdigit():
        when = dt.datetime.fromtimestamp(int(text), dt.UTC)
    else:
        parsed = parse_date(text)
        if parsed is None:
            raise RowError(f"time {text!r} is neither ISO 8601 nor Unix seconds")
        when = parsed
    if when < OLDEST or when > dt.datetime.now(dt.UTC) + dt.timedelta(days=365):
        raise RowError(f"time {text!r} is out of range (after 1990, at most a year ahead)")
    return when


def parse_row(line: int, raw: dict[str, str], metric: MetricKey) -> _Row:
    values = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
    wanted: dict[str, object] = {name: values[name] for name in IDENTIFIER_COLUMNS if values.get(name)}
    checked = check_identifiers(wanted)
    identifiers = {k: v for k, v in checked.values.items() if v is not None}
    if not identifiers:
        reasons = "; ".join(e.detail for e in checked.errors)
        raise RowError(reasons or "no email, phone_number or external_id")
    if not values.get("time"):
        raise RowError("time is required for historical events")
    value = None
    if values.get("value"):
        try:
            value = float(values["value"])
        except ValueError:
            raise RowError(f"value {values['value']!r} is not a number") from None
    properties = {k: v for k, v in values.items() if k not in RESERVED and v != ""}
    event = NewEvent(
        profile_id="",
        metric=metric,
        time=_time(values["time"]),
        properties=properties,
        value=value,
        value_currency=(values.get("value_currency") or None),
        unique_id=values.get("unique_id") or values.get("$event_id") or None,
        backfill=True,
        source="import",
    )
    return _Row(line, raw, identifiers, event)


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
    key = MetricKey(metric.strip()[:127])
    reader = csv.DictReader(stream)
    writer = None
    if rejects is not None and reader.fieldnames:
        writer = csv.DictWriter(
            rejects, fieldnames=[*reader.fieldnames, "line", "reason"], extrasaction="ignore"
        )
        writer.writeheader()

    def reject(line: int, raw: dict[str, Any], reason: str) -> None:
        summary.rejected += 1
        summary.reasons[reason.split(":")[0][:60]] = summary.reasons.get(reason.split(":")[0][:60], 0) + 1
        if writer is not None:
            writer.writerow({**raw, "line": line, "reason": reason})

    for chunk in _chunks(reader):
        rows: list[_Row] = []
        for line, raw in chunk:
            summary.rows += 1
            try:
                rows.append(parse_row(line, raw, key))
            except RowError as error:
                reject(line, raw, str(error))
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
                    reject(row.line, row.raw, "the profile could not be resolved")
                    continue
                summary.profiles_created += int(resolution.created)
                row.event.profile_id = resolution.profile_id
                events.append(row.event)
            written = len(write_events(session, account_id, events))
        summary.imported += written
        summary.duplicates += len(events) - written
        if progress is not None:
            progress(len(chunk))
    return summary


def _chunks(reader: csv.DictReader[str]) -> Iterator[list[tuple[int, dict[str, str]]]]:
    chunk: list[tuple[int, dict[str, str]]] = []
    for raw in reader:
        chunk.append((reader.line_num, raw))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def count_rows(path: Path) -> int:
    with path.open("rb") as handle:
        return max(0, sum(1 for _ in handle) - 1)
