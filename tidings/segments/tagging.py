"""Segments as a kind of resource tags are put on (registered by the composition root)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.segments.tables import Segment
from tidings.tags.kinds import Taggable


def _existing(session: Session, account_id: str, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    stmt = select(Segment.id).where(Segment.account_id == account_id, Segment.id.in_(sorted(set(ids))))
    return set(session.execute(stmt).scalars())


SEGMENTS = Taggable("segment", _existing)
