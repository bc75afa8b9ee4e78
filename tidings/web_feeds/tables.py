"""Web feeds: what the account defined, and the last content fetched (served to templates)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, JSONType, UTCDateTime, utcnow


class WebFeed(Base):
    __tablename__ = "web_feeds"
    __table_args__ = (
        ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        UniqueConstraint("account_id", "name"),
        Index("ix_web_feeds_next_refresh_at", "next_refresh_at"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(String(2048))
    request_method: Mapped[str] = mapped_column(String(4))  # get, post
    content_type: Mapped[str] = mapped_column(String(4))  # json, xml
    status: Mapped[str | None] = mapped_column(String(40), nullable=True)  # null until the first fetch
    generation: Mapped[int] = mapped_column(Integer, default=0)  # bumped when what is fetched changes
    content: Mapped[Any] = mapped_column(JSONType, nullable=True)  # the last good content, parsed
    fetched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # in a row
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_refresh_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
