"""A segment definition as typed models: one model per condition and filter type of the spec.

Filters are told apart by (type, operator), conditions by type, with Pydantic's
discriminated unions; a wrong operator for a filter type is a validation error at the
filter. Dates stay the strings that were sent (checked to parse), so the definition is
echoed back exactly as it was written.
"""

from __future__ import annotations

import datetime as dt
import typing
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    Tag,
    model_validator,
)

from tidings.inference import parse_date

MAX_CONDITIONS = 100


def _check_date(value: str) -> str:
    if parse_date(value) is None:
        raise ValueError("must be an ISO 8601 date-time")
    return value


DateStr = Annotated[str, AfterValidator(_check_date)]
Number = StrictInt | StrictFloat
Unit = Literal["day", "hour", "week"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------------- filters


class StringFilter(Strict):
    type: Literal["string"]
    operator: Literal[
        "equals",
        "not-equals",
        "contains",
        "not-contains",
        "starts-with",
        "not-starts-with",
        "ends-with",
        "not-ends-with",
        "regex",
        "nregex",
    ]
    value: str | None


class StringInFilter(Strict):
    type: Literal["string"]
    operator: Literal["in", "not-in"]
    value: list[str]


class PhoneCountryFilter(Strict):
    type: Literal["string"]
    operator: Literal["phone-country-code-in", "phone-country-code-not-in"]
    value: list[str]


class NumericFilter(Strict):
    type: Literal["numeric"]
    operator: Literal[
        "equals", "not-equals", "greater-than", "greater-than-or-equal", "less-than", "less-than-or-equal"
    ]
    value: Number


class NumericRangeFilter(Strict):
    type: Literal["numeric"]
    operator: Literal["between"]
    start: Number
    end: Number


class BooleanFilter(Strict):
    type: Literal["boolean"]
    operator: Literal["equals"]
    value: StrictBool


class StaticDateFilter(Strict):
    type: Literal["date"]
    operator: Literal["after", "before"]
    date: DateStr


class StaticDateRangeFilter(Strict):
    type: Literal["date"]
    operator: Literal["between-static"]
    start: DateStr
    end: DateStr


class RelativeDateFilter(Strict):
    type: Literal["date"]
    operator: Literal["at-least", "in-the-last", "in-the-next"]
    unit: Unit
    quantity: StrictInt = Field(ge=0)


class RelativeAnniversaryDateFilter(Strict):
    type: Literal["date"]
    operator: Literal["anniversary-last", "anniversary-next"]
    unit: Unit
    quantity: StrictInt = Field(ge=0)


class RelativeDateRangeFilter(Strict):
    type: Literal["date"]
    operator: Literal["between"]
    start: StrictInt = Field(ge=0)
    end: StrictInt = Field(ge=0)
    unit: Unit


class AlltimeDateFilter(Strict):
    type: Literal["date"]
    operator: Literal["alltime"]


class CalendarDateFilter(Strict):
    type: Literal["date"]
    operator: Literal["calendar-month"]
    value: StrictInt = Field(ge=1, le=12)


class AnniversaryDateFilter(Strict):
    type: Literal["date"]
    operator: Literal["anniversary", "anniversary-month"]


class ListContainsFilter(Strict):
    type: Literal["list"]
    operator: Literal["contains", "not-contains"]
    value: StrictInt | str | None


class ListLengthFilter(Strict):
    type: Literal["list"]
    operator: Literal[
        "length-equals",
        "length-greater-than",
        "length-greater-than-or-equal",
        "length-less-than",
        "length-less-than-or-equal",
    ]
    value: StrictInt


class ListSetFilter(Strict):
    type: Literal["list"]
    operator: Literal["contains-all", "contains-any", "not-contains-all", "not-contains-any"]
    value: list[str]


class ListSubstringFilter(Strict):
    type: Literal["list"]
    operator: Literal["contains-substring", "not-contains-substring"]
    value: str | None


class ExistenceFilter(Strict):
    type: Literal["existence"]
    operator: Literal["is-set", "not-set"]


def _literals(model: type[BaseModel], name: str) -> tuple[Any, ...]:
    return typing.get_args(model.model_fields[name].annotation)


def _tag(model: type[BaseModel]) -> str:
    return f"filter:{model.__name__}"


def filter_union(*models: type[BaseModel]) -> Any:
    """A union of filter models told apart by (type, operator); others are rejected at the filter."""
    by_key = {
        (t, op): _tag(m) for m in models for t in _literals(m, "type") for op in _literals(m, "operator")
    }

    def discriminate(value: Any) -> str | None:
        if isinstance(value, dict):
            return by_key.get((value.get("type"), value.get("operator")))
        if isinstance(value, BaseModel):
            return _tag(type(value))
        return None

    members = tuple(Annotated[m, Tag(_tag(m))] for m in models)
    allowed = ", ".join(sorted({f"{t}/{op}" for t, op in by_key}))
    return Annotated[
        Union[members],  # noqa: UP007 - a runtime-built union
        Discriminator(
            discriminate,
            custom_error_type="invalid_filter",
            custom_error_message=f"Unknown filter type or wrong operator for its type; allowed: {allowed}",
        ),
    ]


DATE_FILTERS = (
    StaticDateFilter,
    StaticDateRangeFilter,
    RelativeDateFilter,
    RelativeAnniversaryDateFilter,
    RelativeDateRangeFilter,
    CalendarDateFilter,
    AnniversaryDateFilter,
)
if TYPE_CHECKING:  # built at runtime; to mypy they are simply "a filter"
    PropertyFilter: TypeAlias = Any
    MetricPropertyFilterType: TypeAlias = Any
    MetricTimeframe: TypeAlias = Any
    GroupTimeframe: TypeAlias = Any
    FunnelTimeframe: TypeAlias = Any
    MeasurementFilter: TypeAlias = Any
    PredictiveFilter: TypeAlias = Any
else:
    PropertyFilter = filter_union(
        StringFilter,
        StringInFilter,
        PhoneCountryFilter,
        NumericFilter,
        BooleanFilter,
        *DATE_FILTERS,
        ListContainsFilter,
        ListLengthFilter,
        ExistenceFilter,
    )
    MetricPropertyFilterType = filter_union(
        StringFilter,
        StringInFilter,
        ExistenceFilter,
        ListSetFilter,
        ListLengthFilter,
        ListSubstringFilter,
        BooleanFilter,
        NumericFilter,
    )
    MetricTimeframe = filter_union(
        StaticDateFilter,
        StaticDateRangeFilter,
        RelativeDateFilter,
        RelativeAnniversaryDateFilter,
        RelativeDateRangeFilter,
        AlltimeDateFilter,
    )
    GroupTimeframe = filter_union(
        StaticDateFilter, StaticDateRangeFilter, RelativeDateFilter, RelativeDateRangeFilter
    )
    FunnelTimeframe = filter_union(StaticDateRangeFilter, RelativeDateRangeFilter, RelativeDateFilter)
    MeasurementFilter = filter_union(NumericFilter)
    PredictiveFilter = filter_union(NumericFilter, StringFilter, *DATE_FILTERS)

# ------------------------------------------------------------------------------- conditions


class ProfilePropertyCondition(Strict):
    type: Literal["profile-property"]
    property: str = Field(min_length=1, max_length=300)
    filter: PropertyFilter


class MetricPropertyFilter(Strict):
    property: str = Field(min_length=1, max_length=255)
    filter: MetricPropertyFilterType | None = None


class ProfileMetricCondition(Strict):
    type: Literal["profile-metric"]
    metric_id: str
    measurement: Literal["count", "sum"]
    measurement_filter: MeasurementFilter
    timeframe_filter: MetricTimeframe
    metric_filters: list[MetricPropertyFilter] | None = None


class ProfileGroupMembershipCondition(Strict):
    type: Literal["profile-group-membership"]
    is_member: StrictBool
    group_ids: list[str] = Field(min_length=1)
    timeframe_filter: GroupTimeframe | None = None

    @model_validator(mode="after")
    def _timeframe_only_for_members(self) -> ProfileGroupMembershipCondition:
        if not self.is_member and self.timeframe_filter is not None:
            raise ValueError("timeframe_filter applies only with is_member: true")
        return self


class ConsentStatus(Strict):
    subscription: Literal["any", "subscribed", "unsubscribed", "never_subscribed"]
    filters: list[dict[str, Any]] | None = None


class MarketingConsent(Strict):
    channel: Literal["email", "sms", "push"]
    can_receive_marketing: StrictBool
    consent_status: ConsentStatus


class ProfileMarketingConsentCondition(Strict):
    type: Literal["profile-marketing-consent"]
    consent: MarketingConsent


class ProfileRegionCondition(Strict):
    type: Literal["profile-region"]
    in_region: StrictBool
    region: Literal["european_union", "united_states"]


class PositiveDistance(Strict):
    type: Literal["numeric"]
    operator: Literal["greater-than", "less-than"]
    value: Number = Field(gt=0)


class ProfilePostalCodeDistanceCondition(Strict):
    type: Literal["profile-postal-code-distance"]
    country_code: str
    postal_code: str
    unit: Literal["kilometers", "miles"]
    filter: PositiveDistance


PREDICTIVE_NUMERIC = (
    "average_days_between_orders",
    "average_order_value",
    "churn_probability",
    "historic_clv",
    "historic_number_of_orders",
    "predicted_clv",
    "predicted_number_of_orders",
    "total_clv",
)


class ProfilePredictiveAnalyticsCondition(Strict):
    type: Literal["profile-predictive-analytics"]
    dimension: Literal[
        "average_days_between_orders",
        "average_order_value",
        "churn_probability",
        "historic_clv",
        "historic_number_of_orders",
        "predicted_clv",
        "predicted_number_of_orders",
        "total_clv",
        "expected_date_of_next_purchase",
        "predicted_gender",
        "channel_affinity",
    ]
    measurement: Literal["priority", "rank"] | None = None
    predicted_channel: Literal["email", "push", "sms", "whatsapp"] | None = None
    filter: PredictiveFilter

    @model_validator(mode="after")
    def _filter_fits_dimension(self) -> ProfilePredictiveAnalyticsCondition:
        if self.dimension in PREDICTIVE_NUMERIC and not isinstance(self.filter, NumericFilter):
            raise ValueError(f"{self.dimension} takes a numeric filter")
        if self.dimension == "expected_date_of_next_purchase" and not isinstance(self.filter, DATE_FILTERS):
            raise ValueError("expected_date_of_next_purchase takes a date filter")
        if self.dimension == "channel_affinity" and (
            self.measurement is None or self.predicted_channel is None
        ):
            raise ValueError("channel_affinity needs measurement and predicted_channel")
        return self


class LooseCondition(BaseModel):
    """Condition types stored as sent but not computed (see docs/COMPATIBILITY.md)."""

    model_config = ConfigDict(extra="allow")


class ProfileHasCustomObjectCondition(LooseCondition):
    type: Literal["profile-has-custom-object"]


class ProfilePermissionsCondition(LooseCondition):
    type: Literal["profile-permissions"]


# The spec's completion windows, in seconds.
FUNNEL_WINDOWS = {
    "HOURS_1": 3_600,
    "DAYS_1": 86_400,
    "DAYS_3": 3 * 86_400,
    "DAYS_5": 5 * 86_400,
    "WEEKS_1": 7 * 86_400,
    "DAYS_30": 30 * 86_400,
    "DAYS_90": 90 * 86_400,
    "DAYS_180": 180 * 86_400,
    "YEARS_1": 365 * 86_400,
}


CompletionWindow = Literal[
    "HOURS_1", "DAYS_1", "DAYS_3", "DAYS_5", "WEEKS_1", "DAYS_30", "DAYS_90", "DAYS_180", "YEARS_1"
]


class FunnelStep(Strict):
    metric_exists: StrictBool
    metric_id: str
    metric_filters: list[MetricPropertyFilter] | None = None


class ProfileMetricFunnelCondition(Strict):
    type: Literal["profile-metric-funnel"]
    timeframe_filter: FunnelTimeframe
    completion_window_seconds: (
        Literal[
            "HOURS_1", "DAYS_1", "DAYS_3", "DAYS_5", "WEEKS_1", "DAYS_30", "DAYS_90", "DAYS_180", "YEARS_1"
        ]
        | None
    ) = None
    steps: list[FunnelStep] = Field(min_length=1, max_length=10)


Condition = Annotated[
    ProfilePropertyCondition
    | ProfileMetricCondition
    | ProfileGroupMembershipCondition
    | ProfileMarketingConsentCondition
    | ProfileRegionCondition
    | ProfilePostalCodeDistanceCondition
    | ProfilePredictiveAnalyticsCondition
    | ProfileHasCustomObjectCondition
    | ProfilePermissionsCondition
    | ProfileMetricFunnelCondition,
    Field(discriminator="type"),
]
CONDITION_TYPES = {
    "profile-property",
    "profile-metric",
    "profile-group-membership",
    "profile-marketing-consent",
    "profile-region",
    "profile-postal-code-distance",
    "profile-predictive-analytics",
    "profile-has-custom-object",
    "profile-permissions",
    "profile-metric-funnel",
}


class ConditionGroup(Strict):
    conditions: list[Condition] = Field(min_length=1)


class SegmentDefinition(Strict):
    condition_groups: list[ConditionGroup] = Field(min_length=1)

    def conditions(self) -> list[tuple[int, int, Any]]:
        return [
            (g, c, cond)
            for g, group in enumerate(self.condition_groups)
            for c, cond in enumerate(group.conditions)
        ]


def when(text: str) -> dt.datetime:
    parsed = parse_date(text)
    assert parsed is not None  # checked by DateStr
    return parsed
