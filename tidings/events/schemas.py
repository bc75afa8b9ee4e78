"""Request bodies of the events and metrics operations."""

from __future__ import annotations

from typing import Any, Literal

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


# Custom metrics: the definition is checked by events.custom_metrics (every problem, with its pointer).
class CustomMetricCreateAttributes(Strict):
    name: str = Field(min_length=1, max_length=255)
    definition: dict[str, Any]


class CustomMetricCreateData(Strict):
    type: Literal["custom-metric"]
    attributes: CustomMetricCreateAttributes


class CustomMetricCreateQuery(Strict):
    data: CustomMetricCreateData


class CustomMetricUpdateAttributes(Strict):
    name: str | None = Field(None, min_length=1, max_length=255)
    definition: dict[str, Any] | None = None


class CustomMetricUpdateData(Strict):
    type: Literal["custom-metric"]
    id: str = Field(max_length=64)
    attributes: CustomMetricUpdateAttributes


class CustomMetricUpdateQuery(Strict):
    data: CustomMetricUpdateData


# Mapped metrics: a null linkage (or a null id) unsets the mapping.
class MetricLinkage(Strict):
    type: Literal["metric"]
    id: str | None = Field(None, max_length=64)


class CustomMetricLinkage(Strict):
    type: Literal["custom-metric"]
    id: str | None = Field(None, max_length=64)


class MetricRelationship(Strict):
    data: MetricLinkage | None = None


class CustomMetricRelationship(Strict):
    data: CustomMetricLinkage | None = None


class MappedMetricRelationships(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    metric: MetricRelationship | None = None
    custom_metric: CustomMetricRelationship | None = Field(None, alias="custom-metric")


class MappedMetricUpdateData(Strict):
    type: Literal["mapped-metric"]
    id: str = Field(max_length=64)
    relationships: MappedMetricRelationships | None = None


class MappedMetricUpdateQuery(Strict):
    data: MappedMetricUpdateData
