"""Request bodies of the reporting endpoints, as reporting.json describes them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tidings.segments.schemas import CustomTimeframe, TimeframeKey

Statistic = Literal[
    "average_order_value",
    "bounce_rate",
    "bounced",
    "bounced_or_failed",
    "bounced_or_failed_rate",
    "click_rate",
    "click_to_open_rate",
    "clicks",
    "clicks_unique",
    "conversion_rate",
    "conversion_uniques",
    "conversion_value",
    "conversions",
    "delivered",
    "delivery_rate",
    "failed",
    "failed_rate",
    "message_segment_count_sum",
    "open_rate",
    "opens",
    "opens_unique",
    "recipients",
    "revenue_per_recipient",
    "spam_complaint_rate",
    "spam_complaints",
    "text_message_credit_usage_amount",
    "text_message_roi",
    "text_message_spend",
    "unsubscribe_rate",
    "unsubscribe_uniques",
    "unsubscribes",
]

CampaignGrouping = Literal[
    "campaign_id",
    "campaign_message_id",
    "campaign_message_name",
    "group",
    "group_name",
    "send_channel",
    "tag_id",
    "tag_name",
    "text_message_format",
    "variation",
    "variation_name",
]

FlowGrouping = Literal[
    "flow_id",
    "flow_message_id",
    "flow_message_name",
    "flow_name",
    "send_channel",
    "tag_id",
    "tag_name",
    "text_message_format",
    "variation",
    "variation_name",
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReportAttributes(Strict):
    statistics: list[Statistic] = Field(min_length=1)
    timeframe: TimeframeKey | CustomTimeframe
    conversion_metric_id: str = Field(min_length=1, max_length=64)
    filter: str | None = None


class CampaignValuesAttributes(ReportAttributes):
    group_by: list[CampaignGrouping] | None = None


class FlowValuesAttributes(ReportAttributes):
    group_by: list[FlowGrouping] | None = None


class FlowSeriesAttributes(FlowValuesAttributes):
    interval: Literal["daily", "hourly", "monthly", "weekly"]


class CampaignValuesData(Strict):
    type: Literal["campaign-values-report"]
    attributes: CampaignValuesAttributes


class CampaignValuesQuery(Strict):
    data: CampaignValuesData


class FlowValuesData(Strict):
    type: Literal["flow-values-report"]
    attributes: FlowValuesAttributes


class FlowValuesQuery(Strict):
    data: FlowValuesData


class FlowSeriesData(Strict):
    type: Literal["flow-series-report"]
    attributes: FlowSeriesAttributes


class FlowSeriesQuery(Strict):
    data: FlowSeriesData
