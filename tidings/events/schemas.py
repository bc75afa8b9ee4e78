"""Request bodies of the events and metrics operations."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Measurement = Literal["count", "sum_value", "unique"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MetricAggregateAttributes(Strict):
    metric_id: str = Field(min_length=1, max_length=64)
    measurements: list[Measurement] = Field(min_length=1)
    interval: Literal["hour", "day", "week", "month"] | None = "day"
    page_size: int | None = Field(500, ge=1, le=10_000)
    page_cursor: str | None = None
    by: list[str] | None = Field(None, max_length=10)
    return_fields: list[str] | None = None
    filter: list[str] = Field(min_length=1, max_length=20)
    timezone: str | None = "UTC"
    sort: str | None = None


class MetricAggregateData(Strict):
    type: Literal["metric-aggregate"]
    attributes: MetricAggregateAttributes


class MetricAggregateQuery(Strict):
    data: MetricAggregateData
