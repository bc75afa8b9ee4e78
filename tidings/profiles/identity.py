"""Identity resolution: which profile does a profile block from any write path belong to?

Every write path (REST profile writes, `/client`, the event processor, legacy
track/identify, subscriptions, imports) resolves its profile blocks here, in batches::

    from tidings.profiles.identity import ProfileInput, Source, resolve_batch

    results = resolve_batch(session, account_id, [ProfileInput(email="a@b.co", ...), ...],
                            source=Source.EVENT)
    for result in results:       # one per input, same order
        result.profile_id        # the profile the input belongs to now (None only on error)
        result.created           # a new profile was made for it
        result.merged_from       # profiles merged into result.profile_id because of it
        result.ignored           # identifier fields dropped (conflicts, or not allowed)
        result.conflict          # strict sources: the identifier owned by another profile
        result.not_found         # input.id names no profile of the account

Inputs must be validated already (`tidings.profiles.identifiers.check_identifiers`
normalises emails and phone numbers; the partial-failure rule lives there).

Rules
- Identifiers: `id`, `external_id`, `email` (lower-cased), `phone_number` (E.164),
  `anonymous_id`, `_kx`. The first three are single-valued columns, unique per account;
  `anonymous_id` and `_kx` are aliases, many per profile.
- Precedence id > external_id > email > phone_number > anonymous_id > _kx: the input
  resolves to the profile its strongest identifier names; with none known, a profile is
  created carrying all of them.
- Linking. When one input's identifiers name several profiles, implicit sources
  (`EVENT`, `SUBSCRIPTION`) merge them, deterministically, unless two of them carry
  different values of external_id, email or phone_number (never two external_ids on one
  person); such an identifier is ignored instead. The surviving profile is the one that
  existed before the batch, identified over anonymous, then the oldest. `CLIENT` (public
  key) only merges anonymous-only profiles and never changes an identified profile's
  external_id, email or phone_number (an anonymous-only profile takes those it is sent).
  `API` and `IMPORT` never merge: an identifier owned by another profile is a `conflict`
  and the input changes nothing (REST answers 409).
- Implicit sources fill identifiers a profile lacks but never overwrite one it has;
  `API`/`IMPORT` overwrite (profile-import with a known email and a new phone updates
  the phone) and may clear (`ProfileInput.clear`).
- Attributes: omitted keeps, null clears, `properties` merged key by key,
  `patch_properties` appended/unappended/unset (see `attributes.py`).

With these rules the final partition of identifiers into profiles does not depend on the
order in which the same actions arrive (tests/profiles/test_identity_order.py proves it
with hypothesis for actions that describe consistent people).

Batches: identifiers are looked up set-based (one query for aliases, one for profiles by
id/email/phone/external_id), the same identifier may appear in several inputs of a batch,
and the writes are bulk statements. On PostgreSQL the looked-up profiles are read without a lock
and locked once the batch is resolved, each only as strongly as the batch's use of it needs
(`_Batch.lock`: concurrent batches that merely name the same people do not wait for each other);
a profile changed by another writer in between, or a unique-constraint race with one, rolls back
to a savepoint and resolves again (after a change, locking first). Resolving does not commit;
the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, delete, literal_column, or_, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import Label

from tidings.db.base import utcnow
from tidings.db.dialect import (
    bulk_insert,
    bulk_update,
    dialect_name,
    in_values,
    plan_each_time,
    upsert,
)
from tidings.db.ids import ulid
from tidings.profiles import hooks, property_types
from tidings.profiles import merge as merging
from tidings.profiles.attributes import (
    MAX_PROPERTIES,
    PatchProperties,
    ProfileAttributes,
    apply_attributes,
)
from tidings.profiles.inputs import (
    PRECEDENCE,
    STRICT,
    Conflict,
    ProfileInput,
    Resolution,
    Source,
)
from tidings.profiles.tables import ALIASES, PROFILES, ProfileAlias

log = logging.getLogger(__name__)

IDENTITY_COLUMNS = ("external_id", "email", "phone_number")
_IDENTITY_SET = frozenset(IDENTITY_COLUMNS)
ALIAS_KINDS = ("anonymous_id", "kx")
PROFILE_COLUMNS = [c.name for c in PROFILES.columns]
_BLANK_ROW: dict[str, Any] = dict.fromkeys(PROFILE_COLUMNS)
KEYS = ("account_id", "id")
CHUNK = 2000
_XMIN: Label[str] = literal_column("xmin::text").label("row_version")  # PostgreSQL's row version
RETRIES = 12


def resolve_batch(
    session: Session,
    account_id: str,
    inputs: list[ProfileInput],
    *,
    source: Source,
    create_only: bool = False,
) -> list[Resolution]:
    """Resolve (and apply) each input; see the module docstring. Returns one result per input.

    `create_only` (create_profile): an input whose identifier is already known is a conflict.
    """
    session.flush()
    results: list[Resolution] = []
    for start in range(0, len(inputs), CHUNK):
        results += _resolve_chunk(session, account_id, inputs[start : start + CHUNK], source, create_only)
    session.expire_all()  # ORM objects loaded earlier must see the Core writes
    return results


def _resolve_chunk(
    session: Session, account_id: str, inputs: list[ProfileInput], source: Source, create_only: bool
) -> list[Resolution]:
    # PostgreSQL reads the profiles first and locks them after resolving, each only as strongly as
    # the batch's use of it needs (see _Batch.lock); SQLite has one writer and no row locks.
    lock_first = dialect_name(session) != "postgresql"
    attempt = 0
    while True:
        savepoint = session.begin_nested()
        try:
            batch = _Batch(session, account_id, source, create_only, lock_first=lock_first)
            batch.load(inputs)
            results = [batch.resolve(item) for item in inputs]
            batch.lock()
            batch.write()
            savepoint.commit()
            return batch.finish(results)
        except _Stale:
            savepoint.rollback()
            log.info("profiles changed between reading and locking them; resolving again, locking first")
            lock_first = True
        except (IntegrityError, DBAPIError) as exc:
            savepoint.rollback()
            attempt += 1
            if not _retryable(exc) or attempt == RETRIES:
                raise
            log.info("identity resolution raced with another writer; retrying (%s)", type(exc.orig).__name__)
            # The other writer has committed (PostgreSQL reports the violation only then); wait a
            # little, with jitter, so that two retrying writers do not collide again in step.
            time.sleep(random.uniform(0, 0.005 * 2 ** (attempt - 1)))


class _Stale(Exception):
    """A profile read without a lock changed before the batch locked it (see _Batch.lock)."""


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    name = type(exc.orig).__name__
    return name in {"DeadlockDetected", "SerializationFailure", "LockNotAvailable"}


# ----------------------------------------------------------------------------- the batch


@dataclass
class _Row:
    data: dict[str, Any]
    new: bool
    loaded_identifiers: dict[str, str | None]
    changed: set[str] = field(default_factory=set)
    gone: bool = False
    touched: int = 0  # when a resolution last applied to the row or merged it (_Batch.clock)
    version: str | None = None  # PostgreSQL: the row version read (xmin), when read without a lock
    loaded: dict[str, Any] = field(default_factory=dict)  # the row as read, when read without a lock

    @property
    def id(self) -> str:
        return str(self.data["id"])

    def anonymous_only(self) -> bool:
        return not any(self.data.get(k) for k in IDENTITY_COLUMNS)

    def rank(self) -> tuple[bool, bool, dt.datetime, str]:
        """Survivor order of a merge: existing first, identified first, oldest first."""
        return (self.new, self.anonymous_only(), self.data["created"], self.id)


class _Batch:
    def __init__(
        self, session: Session, account_id: str, source: Source, create_only: bool, *, lock_first: bool
    ) -> None:
        self.session = session
        self.lock_first = lock_first
        self.account_id = account_id
        self.source = source
        self.create_only = create_only
        self.now = utcnow()
        self.rows: dict[str, _Row] = {}
        self.owners: dict[tuple[str, str], str] = {}  # (kind, value) -> profile id
        self.alias_writes: dict[tuple[str, str], str] = {}
        self.merges: list[merging.MergePlan] = []
        self.redirect: dict[str, str] = {}
        self.typed: dict[str, Any] = {}  # property name -> a value, for property types
        self.clock = 0
        # id(input) -> (its row, the row's `touched` after resolving it): see resolve().
        self.resolved: dict[int, tuple[_Row, int]] = {}

    # -------------------------------------------------------------------- loading

    def load(self, inputs: list[ProfileInput]) -> None:
        wanted: dict[str, set[str]] = {kind: set() for kind in PRECEDENCE}
        ids: set[str] = set()
        for item in inputs:
            if item.id:
                ids.add(item.id)
            for kind in PRECEDENCE:
                value = item.identifier(kind)
                if value:
                    wanted[kind].add(value)
        alias_terms = [
            and_(ProfileAlias.kind == kind, in_values(self.session, ProfileAlias.value, sorted(wanted[kind])))
            for kind in ALIAS_KINDS
            if wanted[kind]
        ]
        if alias_terms:
            stmt = select(ProfileAlias.kind, ProfileAlias.value, ProfileAlias.profile_id).where(
                ProfileAlias.account_id == self.account_id, or_(*alias_terms)
            )
            for kind, value, profile_id in self.session.execute(stmt).all():
                self.owners[(kind, value)] = profile_id
                ids.add(profile_id)
        table = PROFILES
        terms = [in_values(self.session, table.c.id, sorted(ids))] if ids else []
        terms += [
            in_values(self.session, table.c[kind], sorted(wanted[kind]))
            for kind in IDENTITY_COLUMNS
            if wanted[kind]
        ]
        if not terms:
            return
        plan_each_time(self.session)
        stmt = select(table).where(table.c.account_id == self.account_id, or_(*terms)).order_by(table.c.id)
        stmt = stmt.with_for_update() if self.lock_first else stmt.add_columns(_XMIN)
        for mapping in self.session.execute(stmt).mappings().all():  # one fetch, not one per row
            data = dict(mapping)
            version = data.pop(_XMIN.name, None)
            data["properties"] = dict(data.get("properties") or {})
            row = _Row(data, new=False, loaded_identifiers={k: data[k] for k in IDENTITY_COLUMNS})
            if version is not None:
                row.version, row.loaded = version, dict(data)
            self.rows[row.id] = row
            for kind in IDENTITY_COLUMNS:
                if data[kind]:
                    self.owners[(kind, data[kind])] = row.id

    # -------------------------------------------------------------------- resolving

    def live(self, profile_id: str) -> _Row:
        while profile_id in self.redirect:
            profile_id = self.redirect[profile_id]
        return self.rows[profile_id]

    def owner(self, kind: str, value: str) -> _Row | None:
        profile_id = self.owners.get((kind, value))
        return self.live(profile_id) if profile_id else None

    def resolve(self, item: ProfileInput) -> Resolution:
        """Resolve one input. The same input object given again (the processor passes one object
        for identical profile blocks) is not worked through again when that cannot change anything:
        its first resolution was clean (every identifier now owned by its row, no error), nothing
        has touched the row since, and applying its attributes twice is applying them once (no
        patch `append`). Resolving it again would then return the row with no change."""
        again = self.resolved.get(id(item))
        if again is not None and again[0].touched == again[1] and not again[0].gone:
            row = again[0]
            return Resolution(row.id, updated=bool(row.changed))
        result = self._resolve(item)
        if (
            result.ok
            and not result.ignored
            and result.error is None
            and self.source not in STRICT
            and not self.create_only
            and (item.patch_properties is None or not item.patch_properties.append)
        ):
            row = self.live(str(result.profile_id))
            self.resolved[id(item)] = (row, row.touched)
        return result

    def _resolve(self, item: ProfileInput) -> Resolution:
        if item.id:
            row = self.rows.get(item.id)
            if row is None:
                return Resolution(None, not_found=True)
            primary: _Row | None = self.live(row.id)
        else:
            primary = None
        owned: list[tuple[str, str, _Row]] = []
        for kind in PRECEDENCE:
            value = getattr(item, kind)
            if value:
                holder = self.owner(kind, value)
                if holder is not None:
                    owned.append((kind, value, holder))
        if self.create_only and owned:
            kind, value, holder = owned[0]
            return Resolution(None, conflict=Conflict(_field(kind), value, holder.id))
        if self.source in STRICT:
            target = primary or (owned[0][2] if owned else None)
            for kind, value, holder in owned:
                if target is not None and holder is not target:
                    return Resolution(None, conflict=Conflict(_field(kind), value, holder.id))
            return self._apply(item, target)
        return self._link(item, primary, owned)

    def _link(
        self, item: ProfileInput, primary: _Row | None, owned: list[tuple[str, str, _Row]]
    ) -> Resolution:
        ignored: list[str] = []
        merged_from: list[str] = []
        explicit = primary is not None
        target = primary or (owned[0][2] if owned else None)
        for kind, _value, holder in owned:
            holder = self.live(holder.id)
            if target is None or holder is target:
                target = holder if target is None else target
                continue
            if explicit or not self._may_merge(target, holder):
                ignored.append(_field(kind))
                continue
            survivor, absorbed = (target, holder) if target.rank() <= holder.rank() else (holder, target)
            self._merge(absorbed, survivor, item)
            merged_from.append(absorbed.id)
            target = survivor
        result = self._apply(item, target, skip=set(ignored))
        result.ignored = ignored + result.ignored
        result.merged_from = merged_from
        return result

    def _may_merge(self, a: _Row, b: _Row) -> bool:
        if self.source is Source.CLIENT and not (a.anonymous_only() or b.anonymous_only()):
            return False
        return all(not (a.data[k] and b.data[k] and a.data[k] != b.data[k]) for k in IDENTITY_COLUMNS)

    def _merge(self, source: _Row, destination: _Row, item: ProfileInput) -> None:
        plan = merging.combine(source.data, destination.data)
        if not source.new:
            trigger = {k: item.identifier(k) for k in PRECEDENCE if item.identifier(k)}
            self.merges.append(
                merging.MergePlan(
                    merge_id=ulid(),
                    source=dict(source.data),
                    destination_id=destination.id,
                    filled=plan.filled,
                    added_properties=plan.added_properties,
                    reason="automatic",
                    trigger={"source": self.source.value, "identifiers": trigger},
                )
            )
        for name, value in plan.filled.items():
            destination.data[name] = value
            destination.changed.add(name)
        if plan.added_properties:
            destination.data["properties"] = {**destination.data["properties"], **plan.added_properties}
            destination.changed.add("properties")
        for kind in IDENTITY_COLUMNS:
            if source.data[kind]:
                self.owners[(kind, source.data[kind])] = destination.id
        for key, owner in list(self.alias_writes.items()):
            if owner == source.id:
                self.alias_writes[key] = destination.id
        source.gone = True
        self.redirect[source.id] = destination.id
        self.clock += 1
        source.touched = destination.touched = self.clock

    def _apply(self, item: ProfileInput, target: _Row | None, *, skip: Iterable[str] = ()) -> Resolution:
        """Set identifiers and attributes on target (creating it when None)."""
        skipped = set(skip)
        ignored: list[str] = []
        created = target is None
        if target is None:
            target = self._create()
        strict = self.source in STRICT
        # A public key never changes who a known person is; an anonymous visitor's profile (no
        # external_id, email or phone yet) becomes the person it identifies as, as onsite
        # identify does.
        may_change = strict or created or target.anonymous_only() or self.source is not Source.CLIENT
        for kind in IDENTITY_COLUMNS:
            value = getattr(item, kind)
            if not value or _field(kind) in skipped or target.data[kind] == value:
                continue
            holder = self.owner(kind, value)
            if holder is not None and holder is not target:
                ignored.append(_field(kind))  # only reachable for lenient sources
                continue
            if target.data[kind] and not strict:
                ignored.append(_field(kind))  # implicit sources never overwrite an identifier
                continue
            if not may_change:
                ignored.append(_field(kind))
                continue
            self._set_identifier(target, kind, value)
        if strict and item.clear:
            for kind in item.clear & _IDENTITY_SET:
                if target.data[kind] is not None:
                    self._set_identifier(target, kind, None)
        for kind in ALIAS_KINDS:
            value = getattr(item, kind)
            if value and _field(kind) not in skipped:
                holder = self.owner(kind, value)
                if holder is None:
                    self.owners[(kind, value)] = target.id
                    self.alias_writes[(kind, value)] = target.id
                elif holder is not target:
                    ignored.append(_field(kind))
        error = None
        bare = item.attributes.is_empty() and (
            item.patch_properties is None or item.patch_properties.is_empty()
        )
        changes = {} if bare else apply_attributes(target.data, item.attributes, item.patch_properties)
        properties = changes.get("properties")
        if properties is not None and len(properties) > MAX_PROPERTIES:
            # The input's property changes are not applied, none of them: the caller says so (REST
            # answers 400, the event processor records a dead letter naming what was not added).
            del changes["properties"]
            added = [name for name in properties if name not in target.data["properties"]]
            error = _too_many(added, len(properties))
            ignored.append("properties")
        for name, value in changes.items():
            target.data[name] = value
            target.changed.add(name)
        if "properties" in changes:
            for name, value in changes["properties"].items():
                self.typed.setdefault(name, value)
        self.clock += 1
        target.touched = self.clock
        updated = bool(target.changed) and not created
        return Resolution(target.id, created=created, updated=updated, ignored=ignored, error=error)

    def _create(self) -> _Row:
        data = dict(_BLANK_ROW)
        data.update(account_id=self.account_id, id=ulid(), properties={}, created=self.now, updated=self.now)
        row = _Row(data, new=True, loaded_identifiers=dict.fromkeys(IDENTITY_COLUMNS))
        self.rows[row.id] = row
        return row

    def _set_identifier(self, row: _Row, kind: str, value: str | None) -> None:
        old = row.data[kind]
        if old and self.owners.get((kind, old)) == row.id:
            del self.owners[(kind, old)]
        row.data[kind] = value
        row.changed.add(kind)
        if value:
            self.owners[(kind, value)] = row.id

    # -------------------------------------------------------------------- locking

    def lock(self) -> None:
        """PostgreSQL: lock the rows read without a lock, and check that none changed meanwhile.

        The rows are locked with one statement, in id order, and only as strongly as the batch's
        use of them needs, so that concurrent batches naming the same people do not wait for each
        other (most event batches change no profile): `FOR KEY SHARE` when the batch only resolves
        to them, which keeps each row and its identifiers (the unique columns) as they are until
        commit, so an event written for it cannot lose its profile to a concurrent merge, and two
        such batches do not conflict; `FOR NO KEY UPDATE` when it changes attributes of any (not
        blocked by `FOR KEY SHARE`); `FOR UPDATE` when it merges one away or changes identifiers.
        One mode and one order for the whole batch keep its later updates (`last_event_date`)
        from waiting on a batch that waits on it. A row another transaction deleted since it was
        read, or changed in what the batch relied on (identifiers; the columns it changes; all of
        a row it merges or re-identifies), raises _Stale: the chunk is resolved again, locking
        first."""
        if self.lock_first:
            return
        rows = [row for row in self.rows.values() if not row.new]
        if not rows:
            return
        changed = {name for row in rows for name in row.changed}
        strongest = any(row.gone for row in rows) or bool(changed & _IDENTITY_SET)
        # FOR UPDATE, FOR NO KEY UPDATE or FOR KEY SHARE:
        read, key_share = (False, False) if strongest else (False, True) if changed else (True, True)
        table = PROFILES
        columns = [table.c.id, _XMIN, *[table.c[name] for name in sorted(_IDENTITY_SET | changed)]]
        stmt = (
            select(*columns)
            .where(
                table.c.account_id == self.account_id,
                in_values(self.session, table.c.id, sorted(row.id for row in rows)),
            )
            .order_by(table.c.id)
            .with_for_update(read=read, key_share=key_share)
        )
        found = {r.id: r._mapping for r in self.session.execute(stmt).all()}
        for row in rows:
            now = found.get(row.id)
            if now is None or _moved(row, now):
                raise _Stale(row.id)

    # -------------------------------------------------------------------- writing

    def write(self) -> None:
        """Write the batch with a few bulk statements (a batch is up to CHUNK profiles)."""
        session, account_id = self.session, self.account_id
        table = PROFILES
        for plan in self.merges:
            merging.apply_merge(session, account_id, plan, at=self.now)
        existing = [r for r in self.rows.values() if not r.new and not r.gone and r.changed]
        # Release identifiers that change hands first, so the unique constraints never see two owners.
        released: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in existing:
            names = tuple(
                k for k in IDENTITY_COLUMNS if k in row.changed and row.loaded_identifiers[k] is not None
            )
            if names:
                released.setdefault(names, []).append(
                    {"account_id": account_id, "id": row.id, **dict.fromkeys(names)}
                )
        for rows in released.values():
            bulk_update(session, table, rows, keys=KEYS)
        new_rows = [r.data for r in self._new_rows()]
        if new_rows:
            bulk_insert(session, table, new_rows)
        # One statement per set of changed columns (an import usually changes the same ones).
        updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in existing:
            names = tuple(sorted(row.changed))
            values = {name: row.data[name] for name in names}
            updates.setdefault(names, []).append(
                {"account_id": account_id, "id": row.id, **values, "updated": self.now}
            )
        for rows in updates.values():
            bulk_update(session, table, rows, keys=KEYS)
        if self.alias_writes:
            alias_rows = [
                {
                    "account_id": account_id,
                    "kind": kind,
                    "value": value,
                    "profile_id": owner,
                    "created": self.now,
                }
                for (kind, value), owner in self.alias_writes.items()
            ]
            session.execute(
                upsert(session, ALIASES, alias_rows, ["account_id", "kind", "value"], ["profile_id"])
            )
        property_types.record(session, account_id, self.typed)
        # Merges told their destinations already (merge.apply_merge).
        hooks.notify(session, account_id, [r.id for r in [*existing, *self._new_rows()]], "profile")

    def _new_rows(self) -> list[_Row]:
        return [r for r in self.rows.values() if r.new and not r.gone]

    def finish(self, results: list[Resolution]) -> list[Resolution]:
        for result in results:
            if result.profile_id is not None:
                result.profile_id = self.live(result.profile_id).id
        return results


def _too_many(added: list[str], total: int) -> str:
    limit = f"A profile may have at most {MAX_PROPERTIES} custom properties"
    if not added:  # a profile past the limit already (merges add the properties it lacks)
        return f"{limit}; it would have {total}."
    shown = ", ".join(repr(name) for name in added[:10])
    more = f" and {len(added) - 10} more" if len(added) > 10 else ""
    return f"{limit}; adding {shown}{more} would make {total}."


def _moved(row: _Row, now: Any) -> bool:
    """Did another writer change what the batch relied on in this row since it was read?"""
    if row.gone or row.changed & _IDENTITY_SET:
        return bool(now[_XMIN.name] != row.version)
    loaded = row.loaded
    return any(now[name] != loaded[name] for name in (*IDENTITY_COLUMNS, *row.changed))


def _field(kind: str) -> str:
    """The attribute name of an identifier kind (`kx` is sent as `_kx`)."""
    return "_kx" if kind == "kx" else kind


def delete_aliases(session: Session, account_id: str, profile_id: str) -> None:
    session.execute(
        delete(ProfileAlias).where(
            ProfileAlias.account_id == account_id, ProfileAlias.profile_id == profile_id
        )
    )


__all__ = [
    "Conflict",
    "PatchProperties",
    "ProfileAttributes",
    "ProfileInput",
    "Resolution",
    "Source",
    "resolve_batch",
]
