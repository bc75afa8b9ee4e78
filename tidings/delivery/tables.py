"""The send ledger: one row per intended delivery, keyed by an idempotency key."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, JSONType, UTCDateTime, utcnow


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"


class SendStatus(StrEnum):
    PLANNED = "planned"  # decided; waiting for its time (also: a retry, an email resend)
    SENDING = "sending"  # claimed with a lease, committed before the provider is called
    SENT = "sent"  # the provider accepted it (provider_ref)
    FAILED = "failed"  # the provider refused it for good, or it ran out of attempts
    SKIPPED = "skipped"  # not sent, for a reason in Klaviyo's words (reason)
    CANCELLED = "cancelled"  # cancelled while planned
    UNKNOWN = "unknown"  # a lease ran out mid-send and the channel assumes it went out (SMS, push)


class SourceKind(StrEnum):
    CAMPAIGN_MESSAGE = "campaign_message"
    FLOW_ACTION = "flow_action"
    API = "api"


_SMS = text("channel = 'sms'")


class MessageSend(Base):
    """One intended delivery of one message to one profile on one channel.

    `idempotency_key` never includes the content's version: editing a message while rows wait
    cannot make a second row. `message_id` (the email's Message-ID) is fixed when the row is
    planned; `content` is stored once, when the row first goes to `sending`, and every later
    attempt sends those bytes. `lease_token` fences the worker holding a `sending` row: an
    outcome from anyone else is refused.
    """

    __tablename__ = "message_sends"
    __table_args__ = (
        UniqueConstraint("account_id", "idempotency_key"),
        Index("ix_message_sends_due", "account_id", "status", "planned_for"),
        Index("ix_message_sends_leases", "status", "claimed_until"),
        Index("ix_message_sends_source", "account_id", "source_kind", "source_id"),
        Index("ix_message_sends_profile", "account_id", "profile_id", "channel", "sending_at"),
        Index("ix_message_sends_ready", "status", "planned_for"),  # the workers' scan, every account
        Index("ix_message_sends_message_id", "message_id"),  # a bounce names its original by it
        # Twilio's webhooks (tidings/delivery/sms.py): a send by its SID, the last SMS to a number.
        Index("ix_message_sends_sms_ref", "provider_ref", sqlite_where=_SMS, postgresql_where=_SMS),
        Index(
            "ix_message_sends_sms_recipient",
            "recipient",
            "created",
            sqlite_where=_SMS,
            postgresql_where=_SMS,
        ),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(8))
    profile_id: Mapped[str] = mapped_column(String(26))
    source_kind: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # campaign message / flow action
    run_id: Mapped[str | None] = mapped_column(String(26), nullable=True)  # flows
    visit: Mapped[int | None] = mapped_column(Integer, nullable=True)  # flows: 1 unless a loop came back
    event_id: Mapped[str | None] = mapped_column(String(26), nullable=True)  # the event a flow runs for
    # The address, number or push token it went to, as it was when the row was first claimed.
    recipient: Mapped[str | None] = mapped_column(String(512), nullable=True)
    sender: Mapped[str | None] = mapped_column(String(512), nullable=True)  # email: the return path
    # What the message's events carry ($message, $flow, Campaign Name, Subject ...), fixed at render.
    context: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default=SendStatus.PLANNED)
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)  # skip or failure reason
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # claims so far
    resends: Mapped[int] = mapped_column(Integer, default=0)  # attempts after an ambiguous one
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    content_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    message_id: Mapped[str] = mapped_column(String(255))
    provider_ref: Mapped[str | None] = mapped_column(String(255), nullable=True)
    lease_token: Mapped[str | None] = mapped_column(String(26), nullable=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    planned_for: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sending_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)  # last claim
    # Until when this attempt holds off smart-sending messages on its channel: the claim time plus
    # the account's window then (a later change of the window is not retroactive, as in Klaviyo).
    smart_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # What came back (delivery/bounces.py): `hard` or `soft`, and when; a spam complaint.
    bounce_type: Mapped[str | None] = mapped_column(String(4), nullable=True)
    bounced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    complained_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    # The first open (machine opens included, as Klaviyo counts them) and the first click that was
    # not a bot's: unique opens and clicks are counts of rows with these set.
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    clicked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class InboundReport(Base):
    """A bounce or complaint as it arrived (a message from the listener or a mailbox file, or one
    event of a provider's webhook), stored before it is acknowledged and processed by the job
    `delivery.process_bounce`. It arrives for no account (`account_id` is the system's, as for
    system jobs): the send it names, once found, is `send_account_id` / `send_id`."""

    __tablename__ = "delivery_inbound_reports"
    __table_args__ = (
        UniqueConstraint("account_id", "dedup_key"),
        Index("ix_delivery_inbound_reports_send", "send_account_id", "send_id"),  # a privacy deletion
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True, default="")
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # smtp, import, sendgrid, mailgun, postmark
    dedup_key: Mapped[str] = mapped_column(String(255))
    envelope_to: Mapped[str | None] = mapped_column(String(1024), nullable=True)  # RCPT TO, comma-separated
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # a message
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)  # a webhook event
    received: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(64), nullable=True)
    send_account_id: Mapped[str | None] = mapped_column(String(6), nullable=True)  # of the send found
    send_id: Mapped[str | None] = mapped_column(String(26), nullable=True)


class ApiMessage(Base):
    """The definition of a message sent through the transactional endpoint (a template, its
    subject and sender): what a ledger row of source `api` renders, by `source_id`."""

    __tablename__ = "delivery_api_messages"

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SendingDomain(Base):
    """An account's sending domain and its DKIM key (`tidings dkim create`). Mail from an address
    at the domain is signed with it; the public half is published as `<selector>._domainkey`."""

    __tablename__ = "sending_domains"

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    selector: Mapped[str] = mapped_column(String(63))
    private_key_pem: Mapped[str] = mapped_column(Text)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrackingHit(Base):
    """A request to an open pixel or a click redirect, kept until it is turned into an event.

    Written in groups by `tracking_hits.HitWriter` (a request is answered once its hit is
    committed) and deleted by the job that records its event, in the same transaction."""

    __tablename__ = "tracking_hits"
    __table_args__ = (Index("ix_tracking_hits_received", "received"),)

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    send_id: Mapped[str] = mapped_column(String(26))
    kind: Mapped[str] = mapped_column(String(5))  # open | click
    link: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the link's index in the message
    url: Mapped[str | None] = mapped_column(Text, nullable=True)  # where the click was sent
    method: Mapped[str] = mapped_column(String(8))
    user_agent: Mapped[str | None] = mapped_column(String(512), nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    received: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrackingSetting(Base):
    """An account's UTM tracking settings (`/api/tracking-settings`); no row: Klaviyo's defaults."""

    __tablename__ = "tracking_settings"

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SendingSetting(Base):
    """An account's sending settings (`/api/x-tidings/sending-settings`): smart sending windows
    per channel and SMS quiet hours; no row: Klaviyo's defaults."""

    __tablename__ = "sending_settings"

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    email_smart_sending_hours: Mapped[int] = mapped_column(Integer)
    sms_smart_sending_hours: Mapped[int] = mapped_column(Integer)
    push_smart_sending_hours: Mapped[int] = mapped_column(Integer)
    sms_quiet_hours_start: Mapped[str] = mapped_column(String(5))  # HH:MM, the recipient's time
    sms_quiet_hours_end: Mapped[str] = mapped_column(String(5))
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
