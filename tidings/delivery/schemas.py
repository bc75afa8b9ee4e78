"""Request documents of the delivery domain's endpoints: the tracking settings (Klaviyo's shapes)
and the transactional send (a Tidings extension)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProfileRef(Strict):
    """Who the message is for: a profile id, or identifiers (a new profile is made if none has them)."""

    id: str | None = Field(None, max_length=64)
    email: str | None = Field(None, max_length=320)
    phone_number: str | None = Field(None, max_length=64)
    external_id: str | None = Field(None, max_length=255)


class MessageSendAttributes(Strict):
    idempotency_key: str = Field(min_length=1, max_length=200)
    channel: Literal["email", "sms", "push"] = "email"
    profile: ProfileRef
    # email: a stored template, or html (and text) given here
    template_id: str | None = Field(None, max_length=64)
    html: str | None = None
    text: str | None = None
    subject: str | None = Field(None, max_length=998)
    preview_text: str | None = Field(None, max_length=998)
    from_email: str | None = Field(None, max_length=320)
    from_label: str | None = Field(None, max_length=255)
    reply_to_email: str | None = Field(None, max_length=320)
    # sms and push
    body: str | None = Field(None, max_length=10_000)
    title: str | None = Field(None, max_length=1_000)
    data: dict[str, str] | None = None
    transactional: bool = True
    send_at: dt.datetime | None = None


class MessageSendData(Strict):
    type: Literal["message-send"]
    attributes: MessageSendAttributes


class MessageSendCreate(Strict):
    data: MessageSendData


CAMPAIGN_DYNAMIC = Literal[
    "campaign_id",
    "campaign_name",
    "campaign_name_id",
    "campaign_name_send_day",
    "email_subject",
    "group_id",
    "group_name",
    "group_name_id",
    "link_alt_text",
    "message_type",
    "profile_external_id",
    "profile_id",
]
FLOW_DYNAMIC = Literal[
    "email_subject",
    "flow_id",
    "flow_name",
    "link_alt_text",
    "message_name",
    "message_name_id",
    "message_type",
    "profile_external_id",
    "profile_id",
]
StaticValue = Annotated[str, Field(min_length=1, max_length=255)]


class CampaignDynamic(Strict):
    type: Literal["dynamic"]
    value: CAMPAIGN_DYNAMIC


class FlowDynamic(Strict):
    type: Literal["dynamic"]
    value: FLOW_DYNAMIC


class Static(Strict):
    type: Literal["static"]
    value: StaticValue


CampaignParam = Annotated[CampaignDynamic | Static, Field(discriminator="type")]
FlowParam = Annotated[FlowDynamic | Static, Field(discriminator="type")]


class TrackingParam(Strict):
    campaign: CampaignParam | None = None
    flow: FlowParam | None = None


class CustomTrackingParam(TrackingParam):
    name: str = Field(min_length=1, max_length=255)


class TrackingSettingAttributes(Strict):
    auto_add_parameters: bool | None = None
    utm_source: TrackingParam | None = None
    utm_medium: TrackingParam | None = None
    utm_campaign: TrackingParam | None = None
    utm_id: TrackingParam | None = None
    utm_term: TrackingParam | None = None
    custom_parameters: list[CustomTrackingParam] | None = None


class TrackingSettingData(Strict):
    type: Literal["tracking-setting"]
    id: str
    attributes: TrackingSettingAttributes


class TrackingSettingUpdate(Strict):
    data: TrackingSettingData


SmartSendingHours = Annotated[int, Field(ge=1, le=720)]  # an hour to 30 days
ClockTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]  # HH:MM


class SmartSendingWindows(Strict):
    email: SmartSendingHours | None = None
    sms: SmartSendingHours | None = None
    push: SmartSendingHours | None = None


class QuietHours(Strict):
    start: ClockTime
    end: ClockTime


class SendingSettingAttributes(Strict):
    smart_sending_hours: SmartSendingWindows | None = None
    sms_quiet_hours: QuietHours | None = None


class SendingSettingData(Strict):
    type: Literal["sending-setting"]
    id: str
    attributes: SendingSettingAttributes


class SendingSettingUpdate(Strict):
    data: SendingSettingData
