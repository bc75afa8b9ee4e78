"""Consent per channel and purpose, email suppressions, list suppressions, push tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, JSONType, UTCDateTime, utcnow


class Subscription(Base):
    """A profile's consent for one channel and purpose.

    channel: "email" | "sms" | "mobile_push" | "whatsapp"; purpose: "marketing" |
    "transactional" | "conversational" | "open_tracking". No row means NEVER_SUBSCRIBED.
    `pending_double_optin` is set while a double opt-in confirmation is awaited: consent does
    not change until it is confirmed.
    """

    __tablename__ = "profile_subscriptions"

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16), primary_key=True)
    consent: Mapped[str] = mapped_column(String(32))
    consent_timestamp: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    method: Mapped[str | None] = mapped_column(String(64), nullable=True)
    method_detail: Mapped[str | None] = mapped_column(String(255), nullable=True)
    custom_method_detail: Mapped[str | None] = mapped_column(String(255), nullable=True)
    double_optin: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    pending_double_optin: Mapped[bool] = mapped_column(Boolean, default=False)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONType, nullable=True)
    valid_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class EmailSuppression(Base):
    """A global email suppression (reason: HARD_BOUNCE, INVALID_EMAIL, SPAM_COMPLAINT, ...)."""

    __tablename__ = "email_suppressions"
    __table_args__ = (
        Index("ix_email_suppressions_account_id_reason_timestamp", "account_id", "reason", "timestamp"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)
    timestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ListSuppression(Base):
    """An email suppression for one list only (a list-scoped unsubscribe)."""

    __tablename__ = "email_list_suppressions"
    __table_args__ = (Index("ix_email_list_suppressions_account_id_list_id", "account_id", "list_id"),)

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    list_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))
    timestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SuppressionJob(Base):
    """A bulk suppress or unsuppress request (its resource is readable while and after it runs)."""

    __tablename__ = "suppression_jobs"
    __table_args__ = (
        Index("ix_suppression_jobs_account_id_kind_created_at", "account_id", "kind", "created_at"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "suppress" | "unsuppress"
    status: Mapped[str] = mapped_column(String(16), default="queued")
    list_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    segment_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    emails: Mapped[list[str]] = mapped_column(JSONType, default=list)
    total_count: Mapped[int] = mapped_column(Integer, default=0)
    completed_count: Mapped[int] = mapped_column(Integer, default=0)
    skipped_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


SUBSCRIPTIONS: Table = Subscription.__table__  # type: ignore[assignment]
SUPPRESSIONS: Table = EmailSuppression.__table__  # type: ignore[assignment]
LIST_SUPPRESSIONS: Table = ListSuppression.__table__  # type: ignore[assignment]
