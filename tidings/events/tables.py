from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, JSONType, UTCDateTime, utcnow


class Metric(Base):
    """A metric, created implicitly by the first event with its name and integration."""

    __tablename__ = "metrics"
    __table_args__ = (UniqueConstraint("account_id", "integration_key", "name"),)

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    integration_key: Mapped[str] = mapped_column(String(64))
    integration: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Event(Base):
    """One event. Append-only and time-ordered; `unique_id` dedups per profile and metric."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("account_id", "profile_id", "metric_id", "unique_id"),
        Index("ix_events_account_id_metric_id_time", "account_id", "metric_id", "time"),
        Index("ix_events_account_id_profile_id_time", "account_id", "profile_id", "time"),
        Index("ix_events_account_id_time", "account_id", "time"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    metric_id: Mapped[str] = mapped_column(String(6))
    profile_id: Mapped[str] = mapped_column(String(26))
    time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    value_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    unique_id: Mapped[str] = mapped_column(String(255))
    backfill: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16))
    received: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class MetricProperty(Base):
    """A top-level property name seen on a metric's events, with its inferred type."""

    __tablename__ = "metric_properties"
    __table_args__ = (Index("ix_metric_properties_account_id_id", "account_id", "id"),)

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    metric_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    property: Mapped[str] = mapped_column(String(255), primary_key=True)
    id: Mapped[str] = mapped_column(String(32))
    inferred_type: Mapped[str] = mapped_column(String(16))
    sample_values: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CustomMetric(Base):
    """A custom metric: a union of metrics, each with optional property filters and the property
    its value is read from (`definition`, the spec's CustomMetricDefinition as given)."""

    __tablename__ = "custom_metrics"
    __table_args__ = (
        ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        UniqueConstraint("account_id", "name"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class MappedMetric(Base):
    """A conversion kind (revenue, ordered_product, ...) mapped to a metric or a custom metric.
    A kind without a row maps to the account's metric of Klaviyo's default name (mapped.py)."""

    __tablename__ = "mapped_metrics"
    __table_args__ = (ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),)

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    metric_id: Mapped[str | None] = mapped_column(String(6), nullable=True)
    custom_metric_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
