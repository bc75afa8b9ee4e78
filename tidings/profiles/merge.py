"""Merging two profiles, logging what moved, and undoing it.

A merge (automatic, from identity resolution, or asked for with merge_profiles) moves the
source's events, aliases, consent, push tokens and list memberships to the destination,
fills the destination's empty attributes from the source (the destination's values win;
custom properties it lacks are added), deletes the source, and writes a `profile_merges`
row recording all of it. `unmerge` reverses it: the source comes back with its id, its
identifiers and attributes, and what moved goes back to it. Events that collided on
(metric, unique_id) were dropped from the source (the destination's won); the log keeps
them and unmerge restores them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, delete, insert, literal, select, update
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.jsonapi.errors import Conflict, NotFound
from tidings.profiles import hooks, participants
from tidings.profiles.tables import (
    MERGES,
    PROFILES,
    Profile,
    ProfileAlias,
    ProfileMerge,
    ProfileMergeMove,
)

FILLABLE = (
    "external_id",
    "email",
    "phone_number",
    "first_name",
    "last_name",
    "organization",
    "title",
    "locale",
    "image",
    "location",
)
IDENTITY_COLUMNS = ("external_id", "email", "phone_number")


@dataclass
class Combined:
    filled: dict[str, Any] = field(default_factory=dict)  # destination column -> value from the source
    added_properties: dict[str, Any] = field(default_factory=dict)


def combine(source: dict[str, Any], destination: dict[str, Any]) -> Combined:
    """What the destination takes from the source: the values it lacks (its own win)."""
    out = Combined()
    for name in FILLABLE:
        if destination.get(name) in (None, {}) and source.get(name) not in (None, {}):
            out.filled[name] = source[name]
    src_last, dst_last = source.get("last_event_date"), destination.get("last_event_date")
    if src_last is not None and (dst_last is None or src_last > dst_last):
        out.filled["last_event_date"] = src_last
    dest_props = destination.get("properties") or {}
    out.added_properties = {k: v for k, v in (source.get("properties") or {}).items() if k not in dest_props}
    return out


@dataclass
class MergePlan:
    merge_id: str
    source: dict[str, Any]  # the source profile's row as it was merged
    destination_id: str
    filled: dict[str, Any]
    added_properties: dict[str, Any]
    reason: str  # "automatic" | "api"
    trigger: dict[str, Any]


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def restored(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$dt"}:
            return dt.datetime.fromisoformat(value["$dt"])
        return {k: restored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [restored(v) for v in value]
    return value


def apply_merge(session: Session, account_id: str, plan: MergePlan, *, at: dt.datetime | None = None) -> None:
    """Move everything of plan.source to plan.destination_id, delete the source, log the merge.

    The caller updates the destination's own columns (plan.filled, plan.added_properties).
    """
    source_id, dest_id = str(plan.source["id"]), plan.destination_id
    aliases = [
        [kind, value]
        for kind, value in session.execute(
            select(ProfileAlias.kind, ProfileAlias.value).where(
                ProfileAlias.account_id == account_id, ProfileAlias.profile_id == source_id
            )
        )
    ]
    if aliases:
        session.execute(
            update(ProfileAlias)
            .where(ProfileAlias.account_id == account_id, ProfileAlias.profile_id == source_id)
            .values(profile_id=dest_id)
        )
    records = {
        p.name: p.move(session, account_id, source_id, dest_id, plan.merge_id)
        for p in participants.participants()
    }
    session.execute(delete(Profile).where(Profile.account_id == account_id, Profile.id == source_id))
    moved = {
        "source": jsonable(plan.source),
        "filled": jsonable(plan.filled),
        "added_properties": jsonable(plan.added_properties),
        "aliases": aliases,
        "participants": records,
    }
    session.execute(
        insert(MERGES).values(
            account_id=account_id,
            id=plan.merge_id,
            source_profile_id=source_id,
            destination_profile_id=dest_id,
            reason=plan.reason,
            trigger=plan.trigger,
            status="merged",
            moved=moved,
            created=at or utcnow(),
        )
    )
    hooks.notify(session, account_id, [dest_id], "merge")


def _literal(text: str, length: int) -> Any:
    return literal(text, String(length))


# ------------------------------------------------------------------------------- unmerge


def unmerge(session: Session, account_id: str, merge_id: str) -> ProfileMerge:
    """Undo a merge: restore the source profile and give it back what moved."""
    merge = session.get(ProfileMerge, (account_id, merge_id), with_for_update=True)
    if merge is None:
        raise NotFound(f"A profile merge with id {merge_id} does not exist.")
    if merge.status != "merged":
        raise Conflict(f"Merge {merge_id} was already undone.", pointer="/data/id")
    dest_id, source_id = merge.destination_profile_id, merge.source_profile_id
    destination = session.get(Profile, (account_id, dest_id), with_for_update=True)
    if destination is None:
        later = _later_merge(session, account_id, dest_id)
        hint = f" Undo merge {later} first." if later else ""
        raise Conflict(f"Profile {dest_id} no longer exists.{hint}", pointer="/data/id")
    if session.get(Profile, (account_id, source_id)) is not None:
        raise Conflict(f"Profile {source_id} exists again; nothing to restore.", pointer="/data/id")
    moved = merge.moved
    source = restored(moved["source"])
    filled = restored(moved.get("filled") or {})
    added = restored(moved.get("added_properties") or {})

    # Identifiers the source needs back must be free (or held by the destination, which returns them).
    for kind in IDENTITY_COLUMNS:
        value = source.get(kind)
        if not value:
            continue
        holder = session.execute(
            select(Profile.id).where(Profile.account_id == account_id, getattr(Profile, kind) == value)
        ).scalar()
        if holder is not None and holder != dest_id:
            raise Conflict(
                f"The source's {kind} {value!r} now belongs to profile {holder}; it cannot be restored.",
                pointer="/data/id",
                meta={"profile_id": holder},
            )

    # The destination gives back what it took, where it still holds that value.
    for name, value in filled.items():
        if name == "last_event_date":
            continue
        if getattr(destination, name) == value:
            setattr(destination, name, None)
    if added:
        properties = dict(destination.properties or {})
        for key, value in added.items():
            if key in properties and properties[key] == value:
                del properties[key]
        destination.properties = properties
    for kind in IDENTITY_COLUMNS:
        if source.get(kind) and getattr(destination, kind) == source[kind]:
            setattr(destination, kind, None)
    destination.updated = utcnow()
    session.flush()

    session.execute(insert(PROFILES).values(**{k: source.get(k) for k in _profile_columns()}))
    for kind, value in moved.get("aliases") or []:
        session.execute(
            update(ProfileAlias)
            .where(
                ProfileAlias.account_id == account_id,
                ProfileAlias.kind == kind,
                ProfileAlias.value == value,
                ProfileAlias.profile_id == dest_id,
            )
            .values(profile_id=source_id)
        )
    for name, record in participant_records(moved).items():
        participant = participants.participant(name)
        if participant is not None:
            participant.restore(session, account_id, source_id, dest_id, record, merge_id)
    session.execute(
        delete(ProfileMergeMove).where(
            ProfileMergeMove.account_id == account_id, ProfileMergeMove.merge_id == merge_id
        )
    )
    merge.status = "unmerged"
    merge.unmerged_at = utcnow()
    session.flush()
    hooks.notify(session, account_id, [source_id, dest_id], "merge")
    return merge


def participant_records(moved: dict[str, Any]) -> dict[str, Any]:
    """Each participant's record in a merge log."""
    records = dict(moved.get("participants") or {})
    if "events" not in records and "dropped_events" in moved:
        # A merge logged before events took part as a participant kept its events at the top.
        records["events"] = {"moved": moved.get("events", 0), "dropped": moved["dropped_events"]}
    return records


def _profile_columns() -> list[str]:
    return [c.name for c in PROFILES.columns]


def _later_merge(session: Session, account_id: str, profile_id: str) -> str | None:
    stmt = select(ProfileMerge.id).where(
        ProfileMerge.account_id == account_id,
        ProfileMerge.source_profile_id == profile_id,
        ProfileMerge.status == "merged",
    )
    return session.execute(stmt.order_by(ProfileMerge.created.desc())).scalar()
