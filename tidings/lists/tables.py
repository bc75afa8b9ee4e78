"""Lists, their current members, and each profile's first join (kept across removals)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, UTCDateTime, utcnow


class List(Base):
    __tablename__ = "lists"
    __table_args__ = (Index("ix_lists_account_id_name", "account_id", "name"),)

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    opt_in_process: Mapped[str] = mapped_column(String(16))
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ListMember(Base):
    """A current membership; removal deletes the row (the first join stays in ListFirstJoin)."""

    __tablename__ = "list_members"
    __table_args__ = (
        Index("ix_list_members_account_id_profile_id", "account_id", "profile_id"),
        Index(
            "ix_list_members_account_id_list_id_joined_group_at", "account_id", "list_id", "joined_group_at"
        ),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    list_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    joined_group_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ListFirstJoin(Base):
    """When a profile first joined a list: a re-add does not re-trigger list-triggered flows."""

    __tablename__ = "list_first_joins"

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    list_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
