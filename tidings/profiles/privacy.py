"""Data privacy deletion: the profile goes, its events stay for reporting but lose personal data.

request_profile_deletion names the profile by exactly one identifier (id, email or
phone_number). The request resolves it and enqueues `profiles.delete` with the profile id
only (no personal data waits in the job table). The job deletes the profile, its aliases,
consent, suppressions, push tokens and list memberships (every registered participant),
the merge-log entries that hold copies of its data, replaces its events' properties with
`{"$redacted": true}` (metric, time and value stay, so reports keep their counts), and
keeps a tombstone with SHA-256 hashes of its identifiers so a re-import is recognisable.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.jobs import queue
from tidings.jsonapi.errors import InvalidInput, NotFound
from tidings.profiles import hooks, participants
from tidings.profiles.identifiers import IdentifierError, normalize
from tidings.profiles.tables import (
    Profile,
    ProfileAlias,
    ProfileMerge,
    ProfileMergeMove,
    ProfileTombstone,
)

POINTER = "/data/attributes/profile/data"


def sha256(value: str | None) -> str | None:
    return hashlib.sha256(value.encode()).hexdigest() if value else None


def request_deletion(
    session: Session, account_id: str, profile_id: str | None, attributes: dict[str, Any]
) -> None:
    given = {k: v for k, v in attributes.items() if v is not None}
    if profile_id:
        given["id"] = profile_id
    if len(given) != 1:
        raise InvalidInput(
            "Give exactly one identifier of the profile to delete: id, email or phone_number.",
            pointer=POINTER,
        )
    [(kind, value)] = given.items()
    if kind != "id":
        try:
            value = normalize(kind, value)
        except IdentifierError as exc:
            raise InvalidInput(exc.detail, pointer=f"{POINTER}/attributes/{kind}") from None
    column = Profile.id if kind == "id" else getattr(Profile, kind)
    found = session.execute(
        select(Profile.id).where(Profile.account_id == account_id, column == value)
    ).scalar()
    if found is None and kind == "id":
        raise NotFound(f"A profile with id {value} does not exist.", pointer=f"{POINTER}/id")
    if found is not None:
        queue.enqueue(
            session,
            "profiles.delete",
            {"profile_id": found},
            account_id=account_id,
            dedup_key=f"delete:{found}",
        )


def delete_profile(session: Session, account_id: str, profile_id: str, *, requested_by: str = "api") -> bool:
    """Delete the profile now (the job calls this). False when it no longer exists."""
    profile = session.get(Profile, (account_id, profile_id), with_for_update=True)
    if profile is None:
        # Merged away since the request: the person now lives in the profile it was merged into.
        survivor = session.execute(
            select(ProfileMerge.destination_profile_id).where(
                ProfileMerge.account_id == account_id,
                ProfileMerge.source_profile_id == profile_id,
                ProfileMerge.status == "merged",
            )
        ).scalar()
        if survivor is None or survivor == profile_id:
            return False
        return delete_profile(session, account_id, survivor, requested_by=requested_by)
    for participant in participants.participants():
        participant.delete(session, account_id, profile_id)
    session.execute(
        delete(ProfileAlias).where(
            ProfileAlias.account_id == account_id, ProfileAlias.profile_id == profile_id
        )
    )
    merge_ids = list(
        session.execute(
            select(ProfileMerge.id).where(
                ProfileMerge.account_id == account_id,
                or_(
                    ProfileMerge.source_profile_id == profile_id,
                    ProfileMerge.destination_profile_id == profile_id,
                ),
            )
        ).scalars()
    )
    if merge_ids:
        session.execute(
            delete(ProfileMergeMove).where(
                ProfileMergeMove.account_id == account_id, ProfileMergeMove.merge_id.in_(merge_ids)
            )
        )
        session.execute(
            delete(ProfileMerge).where(ProfileMerge.account_id == account_id, ProfileMerge.id.in_(merge_ids))
        )
    session.add(
        ProfileTombstone(
            account_id=account_id,
            profile_id=profile_id,
            email_sha256=sha256(profile.email),
            phone_sha256=sha256(profile.phone_number),
            external_id_sha256=sha256(profile.external_id),
            requested_by=requested_by,
            deleted_at=utcnow(),
        )
    )
    session.delete(profile)
    session.flush()
    hooks.notify(session, account_id, [profile_id], "deleted")
    return True


def tombstone_for(session: Session, account_id: str, *, email: str | None = None) -> ProfileTombstone | None:
    """The tombstone of a deleted profile that had this email (to recognise a re-import)."""
    digest = sha256(email)
    if digest is None:
        return None
    stmt = select(ProfileTombstone).where(
        ProfileTombstone.account_id == account_id, ProfileTombstone.email_sha256 == digest
    )
    return session.execute(stmt).scalars().first()
