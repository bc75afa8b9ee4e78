"""The segment clock's queries: next-change instants stored per (segment, profile), and the due ones.

`store` replaces the rows of the profiles just evaluated (every evaluation refreshes them);
`claim_due` hands the `segments.tick` job the rows whose instant has come, locked so that
concurrent ticks (PostgreSQL) take different rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tidings.db.chunks import chunked
from tidings.db.dialect import in_values, skip_locked, upsert_many
from tidings.segments.tables import SegmentClock

CHUNK = 500
EPSILON = dt.timedelta(microseconds=1)
CLOCK = SegmentClock.__table__


def store(
    session: Session,
    account_id: str,
    segment_id: str,
    profile_ids: Sequence[str] | None,
    instants: dict[str, dt.datetime],
    now: dt.datetime,
) -> None:
    """Replace the instants of these profiles (None: of every profile) for the segment.

    An instant is always after `now` (computed so); the clamp only guards the tick against
    taking the same row again within one run."""
    scope = [SegmentClock.account_id == account_id, SegmentClock.segment_id == segment_id]
    if profile_ids is None:
        session.execute(delete(SegmentClock).where(*scope))
    else:
        for chunk in chunked(profile_ids, CHUNK):
            session.execute(
                delete(SegmentClock).where(*scope, in_values(session, SegmentClock.profile_id, chunk))
            )
    rows = [
        {
            "account_id": account_id,
            "segment_id": segment_id,
            "profile_id": pid,
            "due_at": max(at, now + EPSILON),
        }
        for pid, at in sorted(instants.items())
    ]
    if rows:
        # An upsert: a concurrent evaluation of the same profile may have written its row meanwhile.
        keys = ["account_id", "segment_id", "profile_id"]
        session.execute(upsert_many(session, CLOCK, keys, ["due_at"]), rows)  # type: ignore[arg-type]


def claim_due(session: Session, now: dt.datetime, limit: int) -> list[tuple[str, str, str]]:
    """(account_id, segment_id, profile_id) of rows due at `now`, earliest first, locked."""
    stmt = (
        select(SegmentClock.account_id, SegmentClock.segment_id, SegmentClock.profile_id)
        .where(SegmentClock.due_at <= now)
        .order_by(SegmentClock.due_at)
        .limit(limit)
    )
    return [(a, s, p) for a, s, p in session.execute(skip_locked(session, stmt))]


def drop_segment(session: Session, account_id: str, segment_id: str) -> None:
    session.execute(
        delete(SegmentClock).where(
            SegmentClock.account_id == account_id, SegmentClock.segment_id == segment_id
        )
    )


def drop_segments(session: Session, account_id: str, segment_ids: Sequence[str]) -> None:
    if segment_ids:
        session.execute(
            delete(SegmentClock).where(
                SegmentClock.account_id == account_id, SegmentClock.segment_id.in_(list(segment_ids))
            )
        )


def drop_profile(session: Session, account_id: str, profile_id: str) -> None:
    session.execute(
        delete(SegmentClock).where(
            SegmentClock.account_id == account_id, SegmentClock.profile_id == profile_id
        )
    )


def due_at(session: Session, account_id: str, segment_id: str, profile_id: str) -> dt.datetime | None:
    row = session.get(SegmentClock, (account_id, segment_id, profile_id))
    return row.due_at if row is not None else None


def instants(session: Session, account_id: str, segment_id: str) -> dict[str, dt.datetime]:
    """Every stored instant of the segment (tests and explanations)."""
    stmt = select(SegmentClock.profile_id, SegmentClock.due_at).where(
        SegmentClock.account_id == account_id, SegmentClock.segment_id == segment_id
    )
    return {pid: at for pid, at in session.execute(stmt)}


def any_due(session: Session, now: dt.datetime) -> bool:
    stmt = select(SegmentClock.profile_id).where(SegmentClock.due_at <= now).limit(1)
    return session.execute(stmt).first() is not None
