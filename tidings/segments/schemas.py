"""Request bodies of the segment endpoints. The definition arrives as sent and is checked by
tidings.segments.definition (so it can be stored and echoed exactly)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SegmentCreateAttributes(Strict):
    name: str = Field(min_length=1, max_length=255)
    definition: dict[str, Any]
    is_starred: StrictBool | None = False


class SegmentCreateData(Strict):
    type: Literal["segment"]
    attributes: SegmentCreateAttributes


class SegmentCreateQuery(Strict):
    data: SegmentCreateData


class SegmentUpdateAttributes(Strict):
    name: str | None = Field(None, min_length=1, max_length=255)
    definition: dict[str, Any] | None = None
    is_starred: StrictBool | None = None
    is_active: StrictBool | None = None


class SegmentUpdateData(Strict):
    type: Literal["segment"]
    id: str
    attributes: SegmentUpdateAttributes


class SegmentUpdateQuery(Strict):
    data: SegmentUpdateData


# ------------------------------------------------------------------------------ reports

Statistic = Literal["members_added", "members_removed", "net_members_changed", "total_members"]


class TimeframeKey(Strict):
    key: Literal[
        "last_12_months",
        "last_30_days",
        "last_365_days",
        "last_3_months",
        "last_7_days",
        "last_90_days",
        "last_month",
        "last_week",
        "last_year",
        "this_month",
        "this_week",
        "this_year",
        "today",
        "yesterday",
    ]


class CustomTimeframe(Strict):
    start: str
    end: str


class SegmentValuesAttributes(Strict):
    statistics: list[Statistic] = Field(min_length=1)
    timeframe: TimeframeKey | CustomTimeframe
    filter: str | None = None


class SegmentValuesData(Strict):
    type: Literal["segment-values-report"]
    attributes: SegmentValuesAttributes


class SegmentValuesQuery(Strict):
    data: SegmentValuesData


class SegmentSeriesAttributes(SegmentValuesAttributes):
    interval: Literal["daily", "hourly", "monthly", "weekly"]


class SegmentSeriesData(Strict):
    type: Literal["segment-series-report"]
    attributes: SegmentSeriesAttributes


class SegmentSeriesQuery(Strict):
    data: SegmentSeriesData
