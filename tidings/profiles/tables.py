"""Profiles, their anonymous aliases, property types, the merge log and deletion tombstones."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, JSONType, UTCDateTime, utcnow


class Profile(Base):
    """One person. email (lower-cased), phone_number (E.164) and external_id are unique per account."""

    __tablename__ = "profiles"
    __table_args__ = (
        UniqueConstraint("account_id", "email"),
        UniqueConstraint("account_id", "phone_number"),
        UniqueConstraint("account_id", "external_id"),
        Index("ix_profiles_account_id_created", "account_id", "created"),
        Index("ix_profiles_account_id_updated", "account_id", "updated"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    phone_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    first_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    last_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    organization: Mapped[str | None] = mapped_column(String(255), nullable=True)
    title: Mapped[str | None] = mapped_column(String(255), nullable=True)
    locale: Mapped[str | None] = mapped_column(String(64), nullable=True)
    image: Mapped[str | None] = mapped_column(Text, nullable=True)
    location: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_event_date: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ProfileAlias(Base):
    """Anonymous identifiers (`anonymous_id`, `_kx`): many per profile, each owned by one profile."""

    __tablename__ = "profile_aliases"
    __table_args__ = (Index("ix_profile_aliases_account_id_profile_id", "account_id", "profile_id"),)

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(255), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(26))
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProfilePropertyType(Base):
    """The inferred type of each top-level custom property, per account (segments compare by it)."""

    __tablename__ = "profile_property_types"

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    property: Mapped[str] = mapped_column(String(255), primary_key=True)
    inferred_type: Mapped[str] = mapped_column(String(16))
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProfileMerge(Base):
    """One merge of `source_profile_id` into `destination_profile_id`, with what moved (to undo it)."""

    __tablename__ = "profile_merges"
    __table_args__ = (
        Index("ix_profile_merges_account_id_destination_profile_id", "account_id", "destination_profile_id"),
        Index("ix_profile_merges_account_id_source_profile_id", "account_id", "source_profile_id"),
        Index("ix_profile_merges_account_id_created", "account_id", "created"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    source_profile_id: Mapped[str] = mapped_column(String(26))
    destination_profile_id: Mapped[str] = mapped_column(String(26))
    reason: Mapped[str] = mapped_column(String(32))  # "api" | "automatic"
    trigger: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="merged")  # "merged" | "unmerged"
    moved: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    unmerged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ProfileMergeMove(Base):
    """A row that a merge moved to the destination (kind "event": an event id), so unmerge moves it back."""

    __tablename__ = "profile_merge_moves"

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    merge_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), primary_key=True)


class ProfileTombstone(Base):
    """A deleted profile: hashes of its identifiers, so a re-import can be recognised, and when."""

    __tablename__ = "profile_tombstones"
    __table_args__ = (
        Index("ix_profile_tombstones_account_id_email_sha256", "account_id", "email_sha256"),
        Index("ix_profile_tombstones_account_id_phone_sha256", "account_id", "phone_sha256"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    email_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    phone_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    external_id_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    requested_by: Mapped[str] = mapped_column(String(32))
    deleted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# Core handles on the tables, typed (the declarative `__table__` is typed as a FromClause).
PROFILES: Table = Profile.__table__  # type: ignore[assignment]
ALIASES: Table = ProfileAlias.__table__  # type: ignore[assignment]
PROPERTY_TYPES: Table = ProfilePropertyType.__table__  # type: ignore[assignment]
MERGES: Table = ProfileMerge.__table__  # type: ignore[assignment]
MERGE_MOVES: Table = ProfileMergeMove.__table__  # type: ignore[assignment]
TOMBSTONES: Table = ProfileTombstone.__table__  # type: ignore[assignment]


class PushToken(Base):
    """A device push token registered for a profile (one owner per token per account)."""

    __tablename__ = "push_tokens"
    __table_args__ = (
        UniqueConstraint("account_id", "token"),
        Index("ix_push_tokens_account_id_profile_id", "account_id", "profile_id"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(26))
    token: Mapped[str] = mapped_column(String(512))
    platform: Mapped[str] = mapped_column(String(16))
    vendor: Mapped[str] = mapped_column(String(16))
    enablement_status: Mapped[str] = mapped_column(String(32), default="AUTHORIZED")
    background: Mapped[str] = mapped_column(String(32), default="AVAILABLE")
    device_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_date: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
