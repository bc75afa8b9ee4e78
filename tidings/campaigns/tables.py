"""Campaigns and their messages.

A campaign keeps its options as the typed documents of `schemas.py` (audiences, send options,
tracking options, send strategy) in JSON columns; the one field filtered and sorted on besides
the dates, `channel`, is a column of its own (the channel of its messages: one message per
campaign, as Klaviyo's stable API has it). A message keeps its channel's content as one JSON
document and, once a template is assigned, its own copy of that template (Klaviyo copies the
template into a non-reusable one; editing the original afterwards changes no campaign).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, JSONType, UTCDateTime, utcnow


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        Index("ix_campaigns_account_id_created_at", "account_id", "created_at"),
        Index("ix_campaigns_account_id_updated_at", "account_id", "updated_at"),
        Index("ix_campaigns_account_id_scheduled_at", "account_id", "scheduled_at"),
        Index("ix_campaigns_account_id_name", "account_id", "name"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(20))  # email, sms, mobile_push
    status: Mapped[str] = mapped_column(String(40), default="Draft")
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    builder: Mapped[str] = mapped_column(String(20), default="wizard")  # the omni shape's; filterable
    audiences: Mapped[dict[str, Any]] = mapped_column(JSONType)  # {"included": [...], "excluded": [...]}
    send_options: Mapped[dict[str, Any]] = mapped_column(JSONType)
    tracking_options: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    send_strategy: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # The omni shape's campaign-level settings Tidings keeps but does not act on (color,
    # description, send timezone, exit conditions, the audience's name).
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    send_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CampaignMessage(Base):
    __tablename__ = "campaign_messages"
    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "campaign_id"], ["campaigns.account_id", "campaigns.id"], ondelete="CASCADE"
        ),
        Index("ix_campaign_messages_account_id_campaign_id", "account_id", "campaign_id"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(26))
    channel: Mapped[str] = mapped_column(String(20))
    label: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The channel's definition without channel and label: email {content}, sms {content,
    # render_options}, push {notification_type, content, kv_pairs, options}.
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # The assigned template's copy: its own id (what the template relationship names), the
    # template it was copied from, and the copied parts.
    template_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    template_source_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    template_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    template_editor_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    template_html: Mapped[str | None] = mapped_column(Text, nullable=True)
    template_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    template_amp: Mapped[str | None] = mapped_column(Text, nullable=True)
    template_copied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # An image of the account (SMS and push messages, as the spec says); not a foreign key, so
    # that deleting an image never touches a campaign (the relationship then names nothing).
    image_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    # A/B test settings (SDK 25's `definition.ab_test`: winner_metric, winner_percentage,
    # winner_wait_hours) and, once chosen, the winning variation (`ab.py`).
    ab_test: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    winner_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    winner_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CampaignVariation(Base):
    """A variation of a message beyond its default one (the message itself, with the message's
    id): its own name, content fields (subject, preview text, ... or an SMS/push body) laid
    over the message's, and its own template copy. Several variations make an A/B test."""

    __tablename__ = "campaign_variations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "message_id"],
            ["campaign_messages.account_id", "campaign_messages.id"],
            ondelete="CASCADE",
        ),
        Index("ix_campaign_variations_account_id_message_id", "account_id", "message_id"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(26))
    message_id: Mapped[str] = mapped_column(String(26))
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSONType)
    template_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    template_source_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    template_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    template_editor_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    template_html: Mapped[str | None] = mapped_column(Text, nullable=True)
    template_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    template_amp: Mapped[str | None] = mapped_column(Text, nullable=True)
    template_copied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CampaignSendJob(Base):
    """A campaign's send, as `/api/campaign-send-jobs/{id}` shows it (its id is the campaign's, as
    Klaviyo's is). One per campaign: a campaign reverted to Draft and sent again reuses it.

    `status` is Klaviyo's job status (queued, processing, complete, cancelled); the campaign's
    own status says where the send stands in Klaviyo's words. `recipients` is how many ledger
    rows planning wrote; what became of each is read from the ledger (`message_sends`)."""

    __tablename__ = "campaign_send_jobs"
    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "id"], ["campaigns.account_id", "campaigns.id"], ondelete="CASCADE"
        ),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)  # the campaign's id
    status: Mapped[str] = mapped_column(String(20), default="queued")
    recipients: Mapped[int | None] = mapped_column(Integer, nullable=True)  # rows planned
    first_due: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    planned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CampaignRecipientEstimation(Base):
    """The last recipient estimation of a campaign (`/api/campaign-recipient-estimations/{id}`)
    and the job that refreshes it (`/api/campaign-recipient-estimation-jobs/{id}`); both carry
    the campaign's id."""

    __tablename__ = "campaign_recipient_estimations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "id"], ["campaigns.account_id", "campaigns.id"], ondelete="CASCADE"
        ),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)  # the campaign's id
    status: Mapped[str] = mapped_column(String(20), default="queued")
    estimated_recipient_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    estimated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
