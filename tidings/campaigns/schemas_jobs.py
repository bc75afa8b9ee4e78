"""Request bodies of the send job and recipient estimation operations."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SendJobData(_Strict):
    type: Literal["campaign-send-job"]
    id: str = Field(min_length=1, max_length=64)


class SendJobCreate(_Strict):
    data: SendJobData


class SendJobAction(_Strict):
    action: Literal["cancel", "revert"]


class SendJobUpdateData(_Strict):
    type: Literal["campaign-send-job"]
    id: str = Field(min_length=1, max_length=64)
    attributes: SendJobAction


class SendJobUpdate(_Strict):
    data: SendJobUpdateData


class EstimationJobData(_Strict):
    type: Literal["campaign-recipient-estimation-job"]
    id: str = Field(min_length=1, max_length=64)


class EstimationJobCreate(_Strict):
    data: EstimationJobData


# ---------------------------------------------------------------------------- schedules (SDK 25)


class ThrottledOptions(_Strict):
    throttling_percentage: Literal[1, 2, 5, 10, 11, 13, 14, 17, 20, 25, 33, 50]
    throttle_unit: Literal["hour", "minute"] | None = "hour"


class TimezoneOptions(_Strict):
    send_past_timezones_tomorrow: bool | None = False


class MessageSchedule(_Strict):
    """One message's schedule: SDK 25's CampaignMessageSchedule attributes."""

    strategy: Literal["static", "local_timezone", "throttled", "smart_send_time"]
    send_time: dt.datetime | None = None
    send_date: dt.date | None = None
    throttled_options: ThrottledOptions | None = None
    timezone_options: TimezoneOptions | None = None


class InlineMessageSchedule(MessageSchedule):
    message_id: str = Field(min_length=1, max_length=64)


class CampaignRef(_Strict):
    type: Literal["campaign"]
    id: str = Field(min_length=1, max_length=64)


class CampaignRelation(_Strict):
    data: CampaignRef


class CampaignScheduleRelationships(_Strict):
    campaign: CampaignRelation


class CampaignScheduleAttributes(_Strict):
    message_schedules: list[InlineMessageSchedule] = Field(min_length=1, max_length=20)


class CampaignScheduleData(_Strict):
    type: Literal["campaign-schedule"]
    attributes: CampaignScheduleAttributes
    relationships: CampaignScheduleRelationships


class CampaignSchedule(_Strict):
    data: CampaignScheduleData


class MessageRef(_Strict):
    type: Literal["campaign-message"]
    id: str = Field(min_length=1, max_length=64)


class MessageRelation(_Strict):
    data: MessageRef


class MessageScheduleRelationships(_Strict):
    campaign_message: MessageRelation = Field(alias="campaign-message")


class MessageScheduleData(_Strict):
    type: Literal["campaign-message-schedule"]
    attributes: MessageSchedule
    relationships: MessageScheduleRelationships


class MessageScheduleCreate(_Strict):
    data: MessageScheduleData


class MessageScheduleUpdateData(_Strict):
    type: Literal["campaign-message-schedule"]
    id: str = Field(min_length=1, max_length=64)
    attributes: SendJobAction


class MessageScheduleUpdate(_Strict):
    data: MessageScheduleUpdateData
