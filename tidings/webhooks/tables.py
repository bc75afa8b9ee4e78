"""Webhook endpoints, their topics, the outbox of matched events, batches and attempts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, JSONType, UTCDateTime, utcnow

PENDING = "pending"  # waiting for its endpoint (first attempt, or a retry)
DELIVERED = "delivered"  # a 2xx answer


class Webhook(Base):
    """An endpoint (Klaviyo's `webhook`). `failures` counts consecutive failed attempts; the
    endpoint waits until `retry_at` between them and is disabled when the schedule runs out."""

    __tablename__ = "webhooks"
    __table_args__ = (ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),)

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    endpoint_url: Mapped[str] = mapped_column(Text)
    secret_key: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_token: Mapped[str | None] = mapped_column(String(26), nullable=True)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookTopic(Base):
    """A topic an endpoint is subscribed to (`event:klaviyo.received_email`)."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "webhook_id"], ["webhooks.account_id", "webhooks.id"], ondelete="CASCADE"
        ),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    topic: Mapped[str] = mapped_column(String(255), primary_key=True)


class WebhookMatch(Base):
    """An event written whose topic enabled endpoints subscribe to, with those endpoints' ids
    (comma-separated): one narrow row per event, written in the events' transaction, so that
    matching costs the events processor little. The sender fans it out into `webhook_outbox`."""

    __tablename__ = "webhook_matches"

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    webhook_ids: Mapped[str] = mapped_column(Text)


class WebhookOutbox(Base):
    """An event waiting for a batch of one endpoint (at most one per endpoint and event: the
    key). A batch takes and deletes it."""

    __tablename__ = "webhook_outbox"

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(26), primary_key=True)


class WebhookBatch(Base):
    """One request's worth of events for one endpoint (its id is the `webhook-id` header,
    the same on every attempt). The body is built once, so retries send the same bytes."""

    __tablename__ = "webhook_batches"
    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "webhook_id"], ["webhooks.account_id", "webhooks.id"], ondelete="CASCADE"
        ),
        Index("ix_webhook_batches_account_id_webhook_id_status", "account_id", "webhook_id", "status"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(26))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    event_ids: Mapped[list[Any]] = mapped_column(JSONType)
    topics: Mapped[list[Any]] = mapped_column(JSONType)
    body: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebhookAttempt(Base):
    """One request to an endpoint and what came of it (kept with the batch)."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "webhook_id"], ["webhooks.account_id", "webhooks.id"], ondelete="CASCADE"
        ),
        Index("ix_webhook_attempts_account_id_batch_id_id", "account_id", "batch_id", "id"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(26))
    batch_id: Mapped[str] = mapped_column(String(26))
    attempted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    response_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
