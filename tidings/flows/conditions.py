"""The conditions a flow's filters take, as typed models.

A flow's profile filter (and a split's, and a message's additional filters) uses the segment
condition models of `tidings.segments.definition`, so the one segment compiler evaluates them,
plus the flow-only conditions of the spec: "since starting this flow" on a metric condition,
a random sample, "has not been sent" a message, "not in a flow". Trigger filters (on the
triggering event's properties) have their own condition types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import Field, StrictInt

from tidings.segments.definition import (
    DATE_FILTERS,
    AlltimeDateFilter,
    BooleanFilter,
    ExistenceFilter,
    ListContainsFilter,
    ListLengthFilter,
    NumericFilter,
    NumericRangeFilter,
    ProfileGroupMembershipCondition,
    ProfileMarketingConsentCondition,
    ProfileMetricCondition,
    ProfilePermissionsCondition,
    ProfilePostalCodeDistanceCondition,
    ProfilePredictiveAnalyticsCondition,
    ProfilePropertyCondition,
    ProfileRegionCondition,
    RelativeAnniversaryDateFilter,
    RelativeDateFilter,
    RelativeDateRangeFilter,
    StaticDateFilter,
    StaticDateRangeFilter,
    Strict,
    StringFilter,
    StringInFilter,
    filter_union,
)


class SinceFlowStartFilter(Strict):
    """`{"type": "date", "operator": "flow-start"}`: since the run started (the executor's anchor)."""

    type: Literal["date"]
    operator: Literal["flow-start"]


class InTheLastFilter(Strict):
    type: Literal["date"]
    operator: Literal["in-the-last"]
    unit: Literal["day", "hour", "week"]
    quantity: StrictInt = Field(ge=1)


if TYPE_CHECKING:
    FlowMetricTimeframe: TypeAlias = Any
    SentTimeframe: TypeAlias = Any
    EventPropertyFilter: TypeAlias = Any
else:
    FlowMetricTimeframe = filter_union(
        StaticDateFilter,
        StaticDateRangeFilter,
        RelativeDateFilter,
        RelativeAnniversaryDateFilter,
        RelativeDateRangeFilter,
        AlltimeDateFilter,
        SinceFlowStartFilter,
    )
    SentTimeframe = filter_union(AlltimeDateFilter, InTheLastFilter)
    EventPropertyFilter = filter_union(
        StringFilter,
        StringInFilter,
        NumericFilter,
        NumericRangeFilter,
        BooleanFilter,
        *DATE_FILTERS,
        ListContainsFilter,
        ListLengthFilter,
        ExistenceFilter,
    )


class FlowProfileMetricCondition(ProfileMetricCondition):
    """The segment condition, whose timeframe may also be "since starting this flow"."""

    timeframe_filter: FlowMetricTimeframe


class ProfileSampleCondition(Strict):
    type: Literal["profile-sample"]
    percentage: StrictInt = Field(ge=1, le=99)


class ProfileNotSentEmailCondition(Strict):
    type: Literal["profile-not-sent-email"]
    timeframe_filter: SentTimeframe


class ProfileNotSentSmsCondition(Strict):
    type: Literal["profile-not-sent-sms"]
    timeframe_filter: SentTimeframe


class ProfileNotSentPushCondition(Strict):
    type: Literal["profile-not-sent-push"]
    timeframe_filter: SentTimeframe


class ProfileNotInFlowCondition(Strict):
    type: Literal["profile-not-in-flow"]
    timeframe_filter: SentTimeframe


class CustomObjectCondition(Strict):
    """Kept only to be refused with its reason (Tidings has no custom objects)."""

    type: Literal["profile-has-custom-object"]

    model_config = {"extra": "allow"}


_PROFILE_CONDITIONS = (
    ProfilePropertyCondition
    | ProfileGroupMembershipCondition
    | ProfileRegionCondition
    | ProfilePostalCodeDistanceCondition
    | ProfilePredictiveAnalyticsCondition
    | ProfileMarketingConsentCondition
    | FlowProfileMetricCondition
    | ProfileSampleCondition
    | ProfilePermissionsCondition
    | CustomObjectCondition
    | ProfileNotSentEmailCondition
    | ProfileNotSentSmsCondition
    | ProfileNotSentPushCondition
)
# Splits and message filters: the segment conditions and the flow's own, without "not in flow".
ProfileCondition = Annotated[_PROFILE_CONDITIONS, Field(discriminator="type")]
# The flow-level filter also takes "not in a flow".
FlowFilterCondition = Annotated[_PROFILE_CONDITIONS | ProfileNotInFlowCondition, Field(discriminator="type")]

FLOW_CONDITION_TYPES = {
    "profile-property",
    "profile-group-membership",
    "profile-region",
    "profile-postal-code-distance",
    "profile-predictive-analytics",
    "profile-marketing-consent",
    "profile-metric",
    "profile-sample",
    "profile-permissions",
    "profile-has-custom-object",
    "profile-not-sent-email",
    "profile-not-sent-sms",
    "profile-not-sent-push",
    "profile-not-in-flow",
}


class ProfileConditionGroup(Strict):
    conditions: list[ProfileCondition] = Field(min_length=1, max_length=100)


class ProfileFilter(Strict):
    condition_groups: list[ProfileConditionGroup] = Field(min_length=1, max_length=100)


class FlowFilterGroup(Strict):
    conditions: list[FlowFilterCondition] = Field(min_length=1, max_length=100)


class FlowProfileFilter(Strict):
    condition_groups: list[FlowFilterGroup] = Field(min_length=1, max_length=100)


# ------------------------------------------------------------------ trigger filters (event)


class MetricPropertyCondition(Strict):
    """A filter on a top-level property of the triggering event."""

    type: Literal["metric-property"]
    metric_id: str = Field(min_length=1)
    field: str = Field(min_length=1, max_length=255)
    filter: EventPropertyFilter


class PriceDropPropertyCondition(Strict):
    type: Literal["price-drop-property"]
    metric_id: str | None = None
    field: str = Field(min_length=1, max_length=255)
    filter: EventPropertyFilter


class LowInventoryPropertyCondition(Strict):
    type: Literal["low-inventory-property"]
    metric_id: str | None = None
    field: str = Field(min_length=1, max_length=255)
    filter: EventPropertyFilter


class CustomObjectTriggerCondition(Strict):
    """Kept only to be refused with its reason."""

    type: Literal["custom-object-trigger-property", "custom-object-property"]

    model_config = {"extra": "allow"}


class MetricTriggerGroup(Strict):
    conditions: list[MetricPropertyCondition] = Field(min_length=1, max_length=100)


class MetricTriggerFilter(Strict):
    condition_groups: list[MetricTriggerGroup] = Field(min_length=1, max_length=100)


class PriceDropTriggerGroup(Strict):
    conditions: list[PriceDropPropertyCondition] = Field(min_length=1, max_length=100)


class PriceDropTriggerFilter(Strict):
    condition_groups: list[PriceDropTriggerGroup] = Field(max_length=100)


class LowInventoryTriggerGroup(Strict):
    conditions: list[LowInventoryPropertyCondition] = Field(min_length=1, max_length=100)


class LowInventoryTriggerFilter(Strict):
    condition_groups: list[LowInventoryTriggerGroup] = Field(max_length=100)


SplitTriggerCondition = Annotated[
    MetricPropertyCondition
    | PriceDropPropertyCondition
    | LowInventoryPropertyCondition
    | CustomObjectTriggerCondition,
    Field(discriminator="type"),
]


class SplitTriggerGroup(Strict):
    conditions: list[SplitTriggerCondition] = Field(min_length=1, max_length=100)


class SplitTriggerFilter(Strict):
    condition_groups: list[SplitTriggerGroup] = Field(min_length=1, max_length=100)


BranchCondition = Annotated[
    _PROFILE_CONDITIONS | MetricPropertyCondition | CustomObjectTriggerCondition,
    Field(discriminator="type"),
]


class BranchGroup(Strict):
    conditions: list[BranchCondition] = Field(min_length=1, max_length=100)


class BranchFilter(Strict):
    condition_groups: list[BranchGroup] = Field(min_length=1, max_length=100)
