"""Request bodies of the delivery operations (Klaviyo's shapes): the tracking settings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CampaignDynamic(_Strict):
    type: Literal["dynamic"]
    value: CAMPAIGN_DYNAMIC


class FlowDynamic(_Strict):
    type: Literal["dynamic"]
    value: FLOW_DYNAMIC


class Static(_Strict):
    type: Literal["static"]
    value: StaticValue


CampaignParam = Annotated[CampaignDynamic | Static, Field(discriminator="type")]
FlowParam = Annotated[FlowDynamic | Static, Field(discriminator="type")]


class TrackingParam(_Strict):
    campaign: CampaignParam | None = None
    flow: FlowParam | None = None


class CustomTrackingParam(TrackingParam):
    name: str = Field(min_length=1, max_length=255)


class TrackingSettingAttributes(_Strict):
    auto_add_parameters: bool | None = None
    utm_source: TrackingParam | None = None
    utm_medium: TrackingParam | None = None
    utm_campaign: TrackingParam | None = None
    utm_id: TrackingParam | None = None
    utm_term: TrackingParam | None = None
    custom_parameters: list[CustomTrackingParam] | None = None


class TrackingSettingData(_Strict):
    type: Literal["tracking-setting"]
    id: str
    attributes: TrackingSettingAttributes


class TrackingSettingUpdate(_Strict):
    data: TrackingSettingData
