"""Segment memberships through a merge, an unmerge and a privacy deletion.

Membership is derived data: a merge drops the source's rows and re-evaluates the destination
(which now has the source's events and lists); an unmerge re-evaluates both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from tidings.segments.tables import SegmentMember


def _drop(session: Session, account_id: str, profile_id: str) -> None:
    session.execute(
        delete(SegmentMember).where(
            SegmentMember.account_id == account_id, SegmentMember.profile_id == profile_id
        )
    )


def move(session: Session, account_id: str, source_id: str, destination_id: str) -> dict[str, Any]:
    from tidings.segments.service import enqueue_update

    _drop(session, account_id, source_id)
    enqueue_update(session, account_id, [destination_id], "merge")
    return {}


def restore(
    session: Session, account_id: str, source_id: str, destination_id: str, record: dict[str, Any]
) -> None:
    from tidings.segments.service import enqueue_update

    enqueue_update(session, account_id, [source_id, destination_id], "merge")


def remove(session: Session, account_id: str, profile_id: str) -> None:
    _drop(session, account_id, profile_id)


def _register() -> None:
    from tidings.profiles.participants import ProfileParticipant, register

    register(ProfileParticipant("segment_memberships", move, restore, remove))


_register()
