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
transaction. On PostgreSQL two worker processes check and apply chunks side by side (the work
is Python's, bound to one core per process); a chunk that names someone a chunk in flight
names waits for it, so rows apply in file order (the last row of a person wins). On SQLite
one thread writes while the next chunk is read.
At most twice as many chunks as workers are in flight, so memory stays bounded. Rows that
cannot be imported go to a rejects file with the reason.
"""

from __future__ import annotations

import csv
import gc
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import IO, Any

from tidings.config import Settings
from tidings.db.dialect import refresh_statistics
from tidings.db.session import Database
from tidings.inference import from_text
from tidings.profile_imports.service import Checked, Rejected, apply_profiles, check_profile
from tidings.profiles.attributes import LOCATION_FIELDS
from tidings.profiles.tables import PROFILES

CHUNK = 2000
FIRST_REFRESH = 20_000  # profiles imported before the table's statistics are refreshed again
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


@dataclass
class ChunkResult:
    imported: int = 0
    created: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def import_chunk(
    db: Database,
    account_id: str,
    layout: list[Column],
    list_ids: list[str],
    chunk: list[tuple[int, list[str]]],
) -> ChunkResult:
    """Check and apply one chunk of rows (line, cells) in one transaction."""
    checked: list[Checked] = []
    rejected: list[Rejected] = []
    for line, cells in chunk:
        outcome = check_profile(
            line, profile_of(cells, layout), pointer=_line(line), size=sum(map(len, cells))
        )
        if isinstance(outcome, Checked):
            checked.append(outcome)
        else:
            rejected.append(outcome)
    with db.write() as session:
        applied = apply_profiles(session, account_id, checked, list_ids=list_ids, pointer_of=_line)
    rejected = sorted(rejected + applied.rejected, key=lambda r: r.position)
    return ChunkResult(len(applied.profiles), applied.created, [(r.position, r.detail) for r in rejected])


@contextmanager
def batch_gc() -> Iterator[None]:
    """Tune the garbage collector while a process only imports: the objects alive at the start
    (the modules, the engine) are left out of collections (gc.freeze), and collections run
    less often. Every row makes many short-lived containers, and each full collection walked
    every object SQLAlchemy, pydantic and the app had loaded: measured 61 us of CPU per row
    before, 36 us after. The settings are restored at the end."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


_process_db: Database | None = None


def _start_process(settings: Settings) -> None:
    global _process_db
    _process_db = Database(settings)
    batch_gc().__enter__()  # a worker process only imports, until it exits


def _import_chunk_in_process(
    account_id: str, layout: list[Column], list_ids: list[str], chunk: list[tuple[int, list[str]]]
) -> ChunkResult:
    assert _process_db is not None
    return import_chunk(_process_db, account_id, layout, list_ids, chunk)


def import_profiles(
    db: Database,
    account_id: str,
    stream: IO[str],
    *,
    list_ids: list[str] | None = None,
    rejects: IO[str] | None = None,
    progress: Callable[[int], None] | None = None,
    processes: int | None = None,
) -> ImportSummary:
    """Import every row of `stream` (a CSV with a header row) into the account.

    `processes`: how many worker processes check and apply chunks (default: 2 on PostgreSQL,
    where the work is bound by Python's one core per process; none on SQLite, which has one
    writer, where one thread writes while this one reads ahead)."""
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
    count = (2 if db.dialect == "postgresql" else 0) if processes is None else processes
    pool: Executor
    if count > 0:
        pool = ProcessPoolExecutor(
            max_workers=count,
            mp_context=get_context("spawn"),
            initializer=_start_process,
            initargs=(db.settings,),
        )
    else:
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tidings-import")
    in_flight = max(2, 2 * count)
    pending: deque[tuple[Future[ChunkResult], dict[int, list[str]], int, set[str]]] = deque()
    analyzed_at = 0

    def refresh() -> None:
        # Statistics at the start and each time the import has doubled the profiles it made, so
        # identity resolution's lookups keep the right plan while the table grows (see dialect).
        nonlocal analyzed_at
        if db.dialect == "postgresql":
            with db.write() as session:
                refresh_statistics(session, PROFILES)
        analyzed_at = max(summary.imported, FIRST_REFRESH // 2)

    def settle() -> None:
        future, cells, size, _keys = pending.popleft()
        result = future.result()
        for line, detail in result.rejected:
            reason = detail.split(":")[0].split(" (")[0][:60]
            summary.reasons[reason] = summary.reasons.get(reason, 0) + 1
            if writer is not None:
                writer.writerow([*cells.get(line, []), line, detail])
        summary.rejected += len(result.rejected)
        summary.imported += result.imported
        summary.created += result.created
        if summary.imported >= 2 * analyzed_at:
            refresh()
        if progress is not None:
            progress(size)

    refresh()
    with pool:
        for chunk in _chunks(reader):
            summary.rows += len(chunk)
            keys = identity_keys(chunk, layout)
            # Rows apply in file order: a chunk naming someone a chunk still in flight names
            # waits for it (two transactions would otherwise race, and the earlier row could win).
            while pending and (len(pending) >= in_flight or any(keys & entry[3] for entry in pending)):
                settle()
            if count > 0:
                future = pool.submit(_import_chunk_in_process, account_id, layout, wanted, chunk)
            else:
                future = pool.submit(import_chunk, db, account_id, layout, wanted, chunk)
            # Rows are kept only while their chunk may still be written to the rejects file.
            pending.append((future, dict(chunk) if writer is not None else {}, len(chunk), keys))
        while pending:
            settle()
    return summary


def identity_keys(chunk: list[tuple[int, list[str]]], layout: list[Column]) -> set[str]:
    """The identifiers a chunk names, roughly normalised (emails lower-cased, phone numbers as
    digits): enough to see that two chunks may name the same person."""
    where = [
        (index, column.name)
        for index, column in enumerate(layout)
        if column.kind == "field" and column.name in ("email", "phone_number", "external_id")
    ]
    keys: set[str] = set()
    for _line, cells in chunk:
        for index, name in where:
            value = cells[index].strip() if index < len(cells) else ""
            if not value:
                continue
            if name == "email":
                value = value.lower()
            elif name == "phone_number":
                value = "".join(ch for ch in value if ch.isdigit()).removeprefix("00")
            keys.add(f"{name}:{value}")
    return keys


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
