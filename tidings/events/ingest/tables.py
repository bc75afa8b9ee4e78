"""The ingestion's own tables: the durable inbox and the dead letters."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, UTCDateTime, utcnow


class EventInbox(Base):
    """Accepted ingestion payloads not yet processed. A row is deleted in the transaction that
    applies it, so each accepted payload is applied exactly once."""

    __tablename__ = "event_inbox"
    __table_args__ = (Index("ix_event_inbox_received", "received"),)

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    payload: Mapped[str] = mapped_column(Text)
    received: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventFailure(Base):
    """A dead letter: an accepted item that could not be applied, kept with its error."""

    __tablename__ = "event_failures"

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    inbox_id: Mapped[str] = mapped_column(String(26))
    kind: Mapped[str] = mapped_column(String(24))
    item_pointer: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
    error: Mapped[str] = mapped_column(Text)
    received: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# Core handles on the tables, typed (the declarative `__table__` is typed as a FromClause).
INBOX: Table = EventInbox.__table__  # type: ignore[assignment]
