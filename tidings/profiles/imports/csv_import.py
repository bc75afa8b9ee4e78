"""Profiles from a CSV file (`tidings import profiles FILE.csv [--list NAME_OR_ID]`).

The header row names the fields: `email`, `phone_number`, `external_id`, `first_name`,
`last_name`, `organization`, `title`, `image`, `locale`, and the location's `address1`,
`address2`, `city`, `country`, `region`, `zip`, `timezone`, `latitude`, `longitude`, `ip`
(case, spaces, hyphens and a leading `$` do not matter: `First Name`, `$email`; `$id` is the
external_id, `phone` the phone_number, `zip_code`/`postal_code` the zip). Every other column is
a custom property named as in the header, its values read by `tidings.inference.from_text`
(numbers, true/false, otherwise text). An empty cell is not given (an import never clears).

Rows are read as a stream in chunks of CHUNK; each chunk is checked and applied by the same
functions as the API's bulk import (`service.check_profile`, `service.apply_profiles`) in one
transaction. While a chunk is written the next one is read and checked; on PostgreSQL two
chunks are written at once on two connections. At most `writers + 1` chunks are in memory.
Rows that cannot be imported go to a rejects file with the reason.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any

from tidings.db.session import Database
from tidings.inference import from_text
from tidings.profiles.attributes import LOCATION_FIELDS
from tidings.profiles.imports.service import Applied, Checked, Rejected, apply_profiles, check_profile

CHUNK = 2000
FIELDS = (
    "email",
    "phone_number",
    "external_id",
    "first_name",
    "last_name",
    "organization",
    "title",
    "image",
    "locale",
)
ALIASES = {
    "id": "external_id",  # only as `$id`, the legacy name (a plain `id` column is a property)
    "phone": "phone_number",
    "zip_code": "zip",
    "postal_code": "zip",
    "address_1": "address1",
    "address_2": "address2",
}


@dataclass
class ImportSummary:
    rows: int = 0
    imported: int = 0
    created: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Column:
    kind: str  # "field", "location" or "property"
    name: str


def columns(header: list[str]) -> list[Column]:
    """What each column of the header is."""
    out = []
    for raw in header:
        text = raw.strip()
        key = text.lower().replace(" ", "_").replace("-", "_")
        legacy = key.startswith("$")
        key = key.lstrip("$")
        if key == "id" and not legacy:
            out.append(Column("property", text))
            continue
        key = ALIASES.get(key, key)
        if key in FIELDS:
            out.append(Column("field", key))
        elif key in LOCATION_FIELDS:
            out.append(Column("location", key))
        else:
            out.append(Column("property", text))
    return out


def profile_of(cells: list[str], layout: list[Column]) -> dict[str, Any]:
    """The profile resource a row stands for (the API's shape: {"attributes": {...}})."""
    attributes: dict[str, Any] = {}
    location: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    for column, cell in zip(layout, cells, strict=False):
        value = cell.strip()
        if not value:
            continue
        if column.kind == "field":
            attributes[column.name] = value
        elif column.kind == "location":
            location[column.name] = from_text(value) if column.name in ("latitude", "longitude") else value
        elif column.name:
            properties[column.name] = from_text(value)
    if location:
        attributes["location"] = location
    if properties:
        attributes["properties"] = properties
    return {"type": "profile", "attributes": attributes}


def _line(line: int) -> str:
    return f"line {line}"


def import_profiles(
    db: Database,
    account_id: str,
    stream: IO[str],
    *,
    list_ids: list[str] | None = None,
    rejects: IO[str] | None = None,
    progress: Callable[[int], None] | None = None,
    writers: int | None = None,
) -> ImportSummary:
    """Import every row of `stream` (a CSV with a header row) into the account."""
    summary = ImportSummary()
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None:
        return summary
    layout = columns(header)
    writer = None
    if rejects is not None:
        writer = csv.writer(rejects)
        writer.writerow([*header, "line", "reason"])
    wanted = list(list_ids or [])
    rows_of: dict[int, list[str]] = {}

    def reject(item: Rejected) -> None:
        summary.rejected += 1
        reason = item.detail.split(":")[0].split(" (")[0][:60]
        summary.reasons[reason] = summary.reasons.get(reason, 0) + 1
        if writer is not None:
            writer.writerow([*rows_of.get(item.position, []), item.position, item.detail])

    def write(checked: list[Checked]) -> Applied:
        with db.write() as session:
            return apply_profiles(session, account_id, checked, list_ids=wanted, pointer_of=_line)

    count = writers or (2 if db.dialect == "postgresql" else 1)
    pending: deque[tuple[Future[Applied], list[Rejected], dict[int, list[str]], int]] = deque()

    def settle() -> None:
        future, early, cells, size = pending.popleft()
        applied = future.result()
        rows_of.clear()
        rows_of.update(cells)
        for item in sorted(early + applied.rejected, key=lambda r: r.position):
            reject(item)
        summary.imported += len(applied.profiles)
        summary.created += applied.created
        if progress is not None:
            progress(size)

    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="tidings-import") as pool:
        for chunk in _chunks(reader):
            checked: list[Checked] = []
            early: list[Rejected] = []
            for line, cells in chunk:
                summary.rows += 1
                outcome = check_profile(
                    line, profile_of(cells, layout), pointer=_line(line), size=sum(map(len, cells))
                )
                if isinstance(outcome, Checked):
                    checked.append(outcome)
                else:
                    early.append(outcome)
            if len(pending) >= count:
                settle()
            # Rows are kept only while their chunk may still be written to the rejects file.
            kept = {line: cells for line, cells in chunk} if writer is not None else {}
            pending.append((pool.submit(write, checked), early, kept, len(chunk)))
        while pending:
            settle()
    return summary


def _chunks(reader: Any) -> Iterator[list[tuple[int, list[str]]]]:
    chunk: list[tuple[int, list[str]]] = []
    for cells in reader:
        if not any(cells):
            continue  # a blank line
        chunk.append((reader.line_num, cells))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
