"""Segments, their current members and the history of entries and exits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, JSONType, UTCDateTime, utcnow


class Segment(Base):
    __tablename__ = "segments"
    __table_args__ = (Index("ix_segments_account_id_name", "account_id", "name"),)

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    # Exactly as sent, so it is echoed back exactly.
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_starred: Mapped[bool] = mapped_column(Boolean, default=False)
    is_processing: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SegmentMember(Base):
    __tablename__ = "segment_members"
    __table_args__ = (Index("ix_segment_members_account_id_profile_id", "account_id", "profile_id"),)

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    segment_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    joined_group_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SegmentChange(Base):
    """A profile entering (entered=True) or leaving a segment, and what caused the evaluation."""

    __tablename__ = "segment_changes"
    __table_args__ = (Index("ix_segment_changes_account_id_segment_id_at", "account_id", "segment_id", "at"),)

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    segment_id: Mapped[str] = mapped_column(String(32))
    profile_id: Mapped[str] = mapped_column(String(26))
    entered: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(32))  # "build", "event", "profile", "time", ...


class SegmentClock(Base):
    """When a profile's membership of a segment can next change with time alone (a window's edge
    passing an event, an anniversary, ...): the `segments.tick` job re-evaluates it then.

    One row per (segment, profile) whose membership depends on time and has such an instant;
    every evaluation of the profile for the segment replaces its row."""

    __tablename__ = "segment_clock"
    __table_args__ = (
        Index("ix_segment_clock_due_at", "due_at"),
        Index("ix_segment_clock_account_id_profile_id", "account_id", "profile_id"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    segment_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
