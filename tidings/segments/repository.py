"""Queries on segments and their members."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tidings.jsonapi.filters import FilterField
from tidings.profiles.tables import Profile
from tidings.segments.tables import Segment, SegmentChange, SegmentMember

FILTERS: dict[str, FilterField] = {
    "id": FilterField(Segment.id),
    "name": FilterField(Segment.name),
    "created": FilterField(Segment.created, kind="datetime"),
    "updated": FilterField(Segment.updated, kind="datetime"),
    "is_active": FilterField(Segment.is_active, kind="boolean"),
    "is_starred": FilterField(Segment.is_starred, kind="boolean"),
}
SORTS = {"created": Segment.created, "id": Segment.id, "name": Segment.name, "updated": Segment.updated}


def segments_query(account_id: str) -> Select[Any]:
    return select(Segment).where(Segment.account_id == account_id)


def members_query(account_id: str, segment_id: str) -> Select[Any]:
    return (
        select(Profile, SegmentMember.joined_group_at)
        .join(
            SegmentMember,
            (SegmentMember.account_id == Profile.account_id) & (SegmentMember.profile_id == Profile.id),
        )
        .where(SegmentMember.account_id == account_id, SegmentMember.segment_id == segment_id)
    )


def profile_count(session: Session, account_id: str, segment_id: str) -> int:
    stmt = select(func.count()).where(
        SegmentMember.account_id == account_id, SegmentMember.segment_id == segment_id
    )
    return int(session.execute(stmt).scalar_one())


def segments_of_profile(account_id: str, profile_id: str) -> Select[Any]:
    member = select(SegmentMember.segment_id).where(
        SegmentMember.account_id == account_id, SegmentMember.profile_id == profile_id
    )
    return select(Segment).where(Segment.account_id == account_id, Segment.id.in_(member))


def segment_exists(session: Session, account_id: str, segment_id: str) -> bool:
    return session.get(Segment, (account_id, segment_id)) is not None


def member_ids(session: Session, account_id: str, segment_id: str) -> list[str]:
    stmt = select(SegmentMember.profile_id).where(
        SegmentMember.account_id == account_id, SegmentMember.segment_id == segment_id
    )
    return list(session.execute(stmt).scalars())


def segments_of_profiles(
    session: Session, account_id: str, profile_ids: list[str]
) -> list[tuple[str, Segment]]:
    """(profile id, segment) for every segment these profiles are members of, by segment id."""
    stmt = (
        select(SegmentMember.profile_id, Segment)
        .join(
            Segment,
            (Segment.account_id == SegmentMember.account_id) & (Segment.id == SegmentMember.segment_id),
        )
        .where(SegmentMember.account_id == account_id, SegmentMember.profile_id.in_(profile_ids))
        .order_by(Segment.id)
    )
    return [(pid, found) for pid, found in session.execute(stmt).all()]


def changes_query(account_id: str, segment_id: str) -> Select[Any]:
    """The change log of one segment: every entry and exit, oldest first by id."""
    return select(SegmentChange).where(
        SegmentChange.account_id == account_id, SegmentChange.segment_id == segment_id
    )
