"""Segment memberships through a merge, an unmerge and a privacy deletion.

Membership is derived data: a merge drops the source's rows (its exits recorded in
`segment_changes`, so reports keep counting right; no event, the profile is gone) and the
merge's profile-change notice re-evaluates the destination, which now has the source's events
and lists; an unmerge re-evaluates both the same way. A privacy deletion drops the rows too.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.profiles.participants import ProfileParticipant
from tidings.segments import clock
from tidings.segments.tables import SegmentChange, SegmentMember


def _drop(session: Session, account_id: str, profile_id: str, reason: str) -> None:
    scope = [SegmentMember.account_id == account_id, SegmentMember.profile_id == profile_id]
    segment_ids = list(session.execute(select(SegmentMember.segment_id).where(*scope)).scalars())
    if segment_ids:
        now = utcnow()
        session.execute(
            insert(SegmentChange),
            [
                {
                    "account_id": account_id,
                    "id": ulid(),
                    "segment_id": segment_id,
                    "profile_id": profile_id,
                    "entered": False,
                    "at": now,
                    "reason": reason,
                }
                for segment_id in segment_ids
            ],
        )
        session.execute(delete(SegmentMember).where(*scope))
    clock.drop_profile(session, account_id, profile_id)


def move(
    session: Session, account_id: str, source_id: str, destination_id: str, merge_id: str
) -> dict[str, Any]:
    _drop(session, account_id, source_id, "merge")
    return {}


def restore(
    session: Session,
    account_id: str,
    source_id: str,
    destination_id: str,
    record: dict[str, Any],
    merge_id: str,
) -> None:
    """Nothing to put back: unmerge's profile-change notice re-evaluates both profiles."""


def remove(session: Session, account_id: str, profile_id: str) -> None:
    _drop(session, account_id, profile_id, "deleted")


SEGMENT_MEMBERSHIPS = ProfileParticipant("segment_memberships", move, restore, remove)
