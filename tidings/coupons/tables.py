"""Coupons, their unique codes, and the jobs that create codes in bulk.

A coupon's id is its `external_id` (the discount's id in the shop's platform), as Klaviyo's is.
A code's id is the coupon id and the code joined by a hyphen. A code handed to a recipient at
send time keeps the key of the message it went into (`assigned_key`, the delivery ledger's send
id), so rendering the same message again finds the same code and never takes a second one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, JSONType, UTCDateTime, utcnow


class Coupon(Base):
    __tablename__ = "coupons"
    __table_args__ = (ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),)

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    monitor_configuration: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CouponCode(Base):
    __tablename__ = "coupon_codes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "coupon_id"], ["coupons.account_id", "coupons.id"], ondelete="CASCADE"
        ),
        # The next free code of a coupon: the oldest unassigned one.
        Index(
            "ix_coupon_codes_account_id_coupon_id_status_created_at",
            "account_id",
            "coupon_id",
            "status",
            "created_at",
        ),
        Index("ix_coupon_codes_account_id_profile_id", "account_id", "profile_id"),
        Index("ix_coupon_codes_account_id_assigned_key", "account_id", "assigned_key"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(512), primary_key=True)
    coupon_id: Mapped[str] = mapped_column(String(255))
    unique_code: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32), default="UNASSIGNED")
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    profile_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    assigned_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    assigned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CouponCodeJob(Base):
    __tablename__ = "coupon_code_jobs"
    __table_args__ = (
        ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        Index("ix_coupon_code_jobs_account_id_created_at", "account_id", "created_at"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total_count: Mapped[int] = mapped_column(Integer)
    completed_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)  # the request's codes, applied by the job
    code_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)  # the codes it created
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
