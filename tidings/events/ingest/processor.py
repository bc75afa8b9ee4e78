"""Applying the inbox: identities, profiles and events, in batches, exactly once.

One call takes a batch of an account's inbox rows (locked with SKIP LOCKED on PostgreSQL, so
several workers share the load, and deleted as they are read), resolves every profile block of
the batch in one set-based pass (tidings.profiles.identity), writes the events through the event
store and records items that cannot be applied as dead letters: all in the caller's transaction,
so a crash before the commit leaves the rows to be claimed again, and a commit applies them
once. A batch that raises is retried row by row in savepoints, so one poisoned row is
isolated instead of blocking the others.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import msgspec
import structlog
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.dialect import in_values, skip_locked, stored_length
from tidings.db.ids import ulid
from tidings.events.ingest import envelope, legacy
from tidings.events.ingest.envelope import EventEntry, Group, ProfileEntry
from tidings.events.ingest.tables import INBOX, EventFailure
from tidings.events.metrics import MetricKey
from tidings.events.store import NewEvent, write_events
from tidings.profiles.attributes import PatchProperties, ProfileAttributes
from tidings.profiles.identity import ProfileInput, Resolution, Source, resolve_batch

log = structlog.get_logger("tidings.events")

# A bulk row holds up to 1,000 events, a single event a few hundred bytes: bounding a batch by
# payload size keeps each transaction to a few thousand events whatever the rows hold. The row
# limit is above what the byte budget lets through for single events (about 3,000 of ~330 bytes):
# measured in-process, 2,000-row batches cost 20% more CPU per event (more statements per event,
# and a profile repeated in a batch is resolved once however often it repeats).
BATCH_ROWS = 5000
BATCH_BYTES = 1_000_000
SOURCES = {"api": Source.EVENT, "client": Source.CLIENT, "legacy": Source.CLIENT}
# The dead letter of a profile block whose properties could not be saved while its events were
# (the limit of 400): its payload is the block alone, so a retry applies just that again.
PROFILE_PROPERTIES = "profile_properties"


@dataclass
class RowGroup:
    """One profile block and its events, from one inbox row."""

    row: InboxRow
    pointer: str
    source: str  # "api", "client" or "legacy"
    group: Group
    received: dt.datetime


@dataclass
class Failure:
    row: InboxRow
    pointer: str
    payload: Any
    error: str
    kind: str | None = None  # the dead letter's kind when not the inbox row's


@dataclass
class BatchResult:
    rows: int
    events: int
    failures: int
    more: bool


class InboxRow(NamedTuple):
    id: str
    kind: str
    payload: str
    received: dt.datetime


def claim(
    session: Session, account_id: str, limit: int, budget: int = BATCH_BYTES
) -> tuple[list[InboxRow], bool]:
    """Take up to `limit` of the account's oldest inbox rows whose payloads fit the budget (always
    at least one): lock them (SKIP LOCKED), and delete them, reading them back from the DELETE.
    The delete is the caller's transaction's, so until it commits the rows are only locked: a
    crash or a rollback leaves them to be claimed again. Returns the rows (oldest first) and
    whether any were left for later.

    The rows are locked in passes: the first locks one row, and each next as many as the rest of
    the budget holds at the sizes seen so far (two passes, for a run of similar rows); a pass
    that locked rows beyond the budget (bigger rows than those seen) is undone to its savepoint,
    which releases its locks, and only the rows that fit are locked again. A row locked and not
    taken would stay locked until this transaction ends, and concurrent workers skip it: with
    one pass of `limit` rows, a batch of six 150 KB bulk rows locked a whole backlog of bulk rows,
    the other workers' jobs found nothing and ended, and processing went on one batch at a time.
    Sizes are read before payloads, and the rows are read back from the DELETE: one statement
    fewer a batch, and no ORM object a row."""
    table = INBOX
    sized = select(table.c.id, stored_length(session, table.c.payload)).where(
        table.c.account_id == account_id
    )
    chosen: list[str] = []
    total, step, more = 0, 1, False
    while True:
        stmt = sized if not chosen else sized.where(table.c.id > chosen[-1])
        stmt = skip_locked(session, stmt.order_by(table.c.id))
        savepoint = session.begin_nested()
        found = session.execute(stmt.limit(step)).all()
        fit = _fitting(found, total, budget, first=not chosen)
        if fit < len(found):
            # Rows of other sizes than those seen: give back the locks this pass took (a rolled
            # back savepoint releases them) and lock only the rows that fit.
            savepoint.rollback()
            found = session.execute(stmt.limit(fit)).all()
            chosen += [row_id for row_id, _ in found]
            return _take(session, account_id, chosen), True
        savepoint.commit()
        for row_id, size in found:
            chosen.append(row_id)
            total += size
        if len(found) < step or not chosen:  # none left that another worker has not locked
            break
        average = max(total / len(chosen), 1.0)
        step = min(limit - len(chosen), int((budget - total) // average))
        if step < 1:  # the row limit is reached, or the next row of the average size would not fit
            more = True
            break
    return _take(session, account_id, chosen), more


def _fitting(found: Sequence[Any], total: int, budget: int, *, first: bool) -> int:
    """How many of `found` (id, size) fit the budget after `total` (a batch takes at least one)."""
    count = 0
    for _row_id, size in found:
        if total + size > budget and not (first and count == 0):
            break
        total += size
        count += 1
    return count


def _take(session: Session, account_id: str, ids: list[str]) -> list[InboxRow]:
    if not ids:
        return []
    stmt = (
        delete(INBOX)
        .where(INBOX.c.account_id == account_id, in_values(session, INBOX.c.id, ids))
        .returning(INBOX.c.id, INBOX.c.kind, INBOX.c.payload, INBOX.c.received)
    )
    # One fetch of all the rows (iterating the result fetches them one by one).
    return sorted(InboxRow(*row) for row in session.execute(stmt).all())


def expand(row: InboxRow) -> tuple[list[RowGroup], list[Failure]]:
    """The groups of one inbox row: its envelope's, or its legacy payload's, mapped here."""
    if row.kind in ("legacy_track", "legacy_identify"):
        payload = json.loads(row.payload)
        try:
            group = (
                legacy.track_group(payload, row.received)
                if row.kind == "legacy_track"
                else legacy.identify_group(payload)
            )
        except legacy.LegacyError as error:
            return [], [Failure(row, "/", payload, f"{row.kind}: {error}")]
        return [RowGroup(row, "/", "legacy", group, row.received)], []
    accepted = envelope.decode(row.payload)
    groups = [
        RowGroup(row, f"/{index}", accepted.source, group, accepted.received)
        for index, group in enumerate(accepted.groups)
    ]
    return groups, []


def profile_input(block: ProfileEntry) -> ProfileInput:
    ids = block.identifiers
    return ProfileInput(
        id=block.id,
        email=ids.email,
        phone_number=ids.phone_number,
        external_id=ids.external_id,
        anonymous_id=ids.anonymous_id,
        kx=ids.kx,
        attributes=ProfileAttributes.from_dict(block.attributes),
        patch_properties=PatchProperties.from_meta(block.patch),
    )


def _shared_input(inputs: dict[Any, ProfileInput], block: ProfileEntry) -> ProfileInput:
    if block.attributes or block.patch:
        key: Any = json.dumps(msgspec.to_builtins(block), sort_keys=True, default=str)
    else:  # the common case: identifiers only (hashable)
        key = (block.id, block.identifiers)
    found = inputs.get(key)
    if found is None:
        found = inputs[key] = profile_input(block)
    return found


def _why(resolution: Resolution) -> str:
    if resolution.not_found:
        return "The profile id does not exist."
    if resolution.conflict is not None:
        c = resolution.conflict
        return f"{c.field} {c.value!r} belongs to another profile ({c.profile_id})."
    return resolution.error or "The profile could not be resolved."


def apply_rows(session: Session, account_id: str, rows: list[InboxRow]) -> tuple[int, list[Failure]]:
    groups: list[RowGroup] = []
    failures: list[Failure] = []
    for row in rows:
        found, failed = expand(row)
        groups += found
        failures += failed
    events: list[NewEvent] = []
    metric_keys: dict[tuple[str, str], MetricKey] = {}
    by_source: dict[str, list[RowGroup]] = {}
    for group in groups:
        by_source.setdefault(group.source, []).append(group)
    resolved: list[tuple[RowGroup, Resolution]] = []
    for source, members in by_source.items():
        # Identical profile blocks share one input, which identity resolution then resolves once
        # when it can (see _Batch.resolve); the wrk load repeats each of 1,000 emails twice a batch.
        inputs: dict[Any, ProfileInput] = {}
        resolutions = resolve_batch(
            session,
            account_id,
            [_shared_input(inputs, g.group.profile) for g in members],
            source=SOURCES[source],
        )
        resolved += zip(members, resolutions, strict=True)
    # A later source (or chunk) may have merged away a profile an earlier one resolved to: the
    # events go to the profile it became.
    merged_into = {gone: r.profile_id for _, r in resolved if r.profile_id for gone in r.merged_from}
    unsaved: set[tuple[str, str, str]] = set()
    for group, resolution in resolved:
        if not resolution.ok or resolution.profile_id is None:
            payload = envelope.group_json(group.group)
            failures.append(Failure(group.row, group.pointer, payload, _why(resolution)))
            continue
        profile_id = resolution.profile_id
        for _ in range(len(merged_into)):  # a chain of merges, never a cycle (a merged profile is gone)
            if profile_id not in merged_into:
                break
            profile_id = merged_into[profile_id]
        if resolution.error is not None:
            # The profile's other changes and the events stand; what was not saved is recorded
            # (once for the same block on the same profile in one row: a bulk row repeats it).
            block = envelope.group_json(envelope.Group(group.group.profile))
            key = (group.row.id, profile_id, json.dumps(block, sort_keys=True, default=str))
            if key not in unsaved:
                unsaved.add(key)
                failures.append(_properties_not_saved(group, profile_id, resolution))
        for event in group.group.events:
            events.append(_new_event(profile_id, event, group, metric_keys))
    written = write_events(session, account_id, events)
    return len(written), failures


def _properties_not_saved(group: RowGroup, profile_id: str, resolution: Resolution) -> Failure:
    """A dead letter for a profile block whose properties were not saved (its events were): it
    names the profile and the properties, and holds the block alone, in an envelope that keeps
    its source (so `/client` rules apply to a retry; legacy track/identify are /client's) and
    when it was received."""
    source: envelope.Source = "api" if group.source == "api" else "client"
    alone = envelope.Envelope(source, group.received, [envelope.Group(group.group.profile)])
    error = (
        f"The properties of profile {profile_id} were not updated (the event was stored): "
        f"{resolution.error} Retrying applies the profile block again."
    )
    payload = msgspec.to_builtins(alone)
    return Failure(group.row, f"{group.pointer}/profile", payload, error, kind=PROFILE_PROPERTIES)


def _new_event(
    profile_id: str, event: EventEntry, group: RowGroup, metric_keys: dict[tuple[str, str], MetricKey]
) -> NewEvent:
    name = (event.metric, event.service)
    metric = metric_keys.get(name)
    if metric is None:
        metric = metric_keys[name] = MetricKey(*name)
    return NewEvent(
        profile_id,
        metric,
        event.time or group.received,
        event.properties,
        event.value,
        event.value_currency,
        event.unique_id,
        event.backfill,
        group.source,
    )


def process_batch(session: Session, account_id: str, *, limit: int = BATCH_ROWS) -> BatchResult:
    rows, more = claim(session, account_id, limit)
    if not rows:
        return BatchResult(0, 0, 0, more=False)
    try:
        with session.begin_nested():
            written, failures = apply_rows(session, account_id, rows)
    except Exception:
        log.warning(
            "events.batch_failed_isolating_rows", account_id=account_id, rows=len(rows), exc_info=True
        )
        written, failures = 0, []
        for row in rows:
            try:
                with session.begin_nested():
                    count, failed = apply_rows(session, account_id, [row])
                written += count
                failures += failed
            except Exception as error:
                failures.append(Failure(row, "/", _raw(row), f"{type(error).__name__}: {error}"))
    record_failures(session, account_id, failures)
    return BatchResult(len(rows), written, len(failures), more=more)


def _raw(row: InboxRow) -> Any:
    try:
        return json.loads(row.payload)
    except ValueError:
        return row.payload


def record_failures(session: Session, account_id: str, failures: list[Failure]) -> None:
    if not failures:
        return
    now = utcnow()
    session.add_all(
        EventFailure(
            account_id=account_id,
            id=ulid(),
            inbox_id=f.row.id,
            kind=f.kind or f.row.kind,
            item_pointer=f.pointer,
            payload=json.dumps(f.payload, default=str),
            error=f.error[:4000],
            received=f.row.received,
            created=now,
        )
        for f in failures
    )
    log.warning("events.dead_letters", account_id=account_id, count=len(failures))
