"""A flow's definition (the spec's `FlowDefinition`): one trigger, a profile filter, re-entry
rules and the action graph, as typed models; `parse` turns a body's definition into them with
every error at its JSON pointer.

The stored form (`stored_definition`) is what an executor walks: every action has its real id,
and every link names the real id of the next action (per branch), or null where a path ends.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from tidings.flows.actions import ACTION_TYPES, Action, TimeOfDay, Timezone, Weekday
from tidings.flows.conditions import (
    FLOW_CONDITION_TYPES,
    FlowProfileFilter,
    LowInventoryTriggerFilter,
    MetricTriggerFilter,
    PriceDropTriggerFilter,
)
from tidings.jsonapi.errors import APIError, ErrorList, InvalidInput
from tidings.segments.definition import Number, Strict

MAX_ACTIONS = 200


class ListTrigger(Strict):
    type: Literal["list"]
    id: str = Field(min_length=1)


class SegmentTrigger(Strict):
    type: Literal["segment"]
    id: str = Field(min_length=1)


class MetricTrigger(Strict):
    type: Literal["metric"]
    id: str = Field(min_length=1)
    trigger_filter: MetricTriggerFilter | None = None


class DateTrigger(BaseModel):
    """`date` triggers: a profile date property (birthday, anniversary) or a custom object's.
    One model with `date_field_type`, since both share `type: date`; a custom object is refused
    by the validator with its reason."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["date"]
    date_field_type: Literal["profile-property", "custom-object"]
    date_profile_property: str | None = Field(None, min_length=1, max_length=255)
    timedelta_unit_before_date: Literal["days", "months", "weeks"] = "weeks"
    timedelta_value_before_date: StrictInt | None = Field(None, ge=-366, le=366)
    recurrence_frequency: Literal["annually", "monthly", "never", "weekly"] = "monthly"
    timezone: Timezone = "profile"
    trigger_time: TimeOfDay | None = None
    trigger_days: list[Weekday] | None = None
    # custom-object only (refused)
    custom_object_label: str | None = None
    custom_object_property_id: int | None = None
    object_type_id: str | None = None
    object_type_relationship_id: str | None = None


class PriceDropTrigger(Strict):
    type: Literal["price-drop"]
    trigger_filter: PriceDropTriggerFilter | None
    price_drop_amount_value: Number = Field(gt=0)
    price_drop_amount_unit: Literal["currency", "percent"] = "currency"
    audience: list[Literal["checkout-started", "viewed"]] = Field(min_length=1)
    timeframe_days: StrictInt = Field(30, ge=1, le=365)
    currency_type: Literal["usd"] = "usd"


class LowInventoryTrigger(Strict):
    type: Literal["low-inventory"]
    product_level: Literal["product", "variant"]
    trigger_filter: LowInventoryTriggerFilter | None
    inventory_count: StrictInt = Field(ge=0)
    audience: list[Literal["added-to-cart", "checkout-started", "viewed"]] = Field(min_length=1)
    timeframe_days: StrictInt = Field(30, ge=1, le=365)


Trigger = Annotated[
    ListTrigger | SegmentTrigger | MetricTrigger | DateTrigger | PriceDropTrigger | LowInventoryTrigger,
    Field(discriminator="type"),
]
TRIGGER_TYPES = {"list", "segment", "metric", "date", "price-drop", "low-inventory"}

# The spec's trigger_type of a flow, from its trigger (there is no "Segment" value: a segment
# flow reports "Added to List", semantics §7 [INF]).
TRIGGER_TYPE_NAMES = {
    "list": "Added to List",
    "segment": "Added to List",
    "metric": "Metric",
    "date": "Date Based",
    "price-drop": "Price Drop",
    "low-inventory": "Low Inventory",
}


class ReentryCriteria(Strict):
    duration: StrictInt = Field(ge=0, le=10_000)
    unit: Literal["alltime", "day", "hour", "week"]


class FlowDefinition(Strict):
    triggers: list[Trigger] = Field(max_length=1)
    profile_filter: FlowProfileFilter | None = None
    actions: list[Action] = Field(max_length=MAX_ACTIONS)
    entry_action_id: str | None
    reentry_criteria: ReentryCriteria | None = None


_TAGS = (
    ACTION_TYPES
    | TRIGGER_TYPES
    | FLOW_CONDITION_TYPES
    | {
        "metric-property",
        "price-drop-property",
        "low-inventory-property",
        "custom-object-trigger-property",
        "custom-object-property",
        "create",
        "update",
        "delete",
        "SetProperty",
        "DeleteProperty",
        "SendEmailAction",
        "SendSmsAction",
    }
)


def pointer(loc: tuple[Any, ...], base: str) -> str:
    """A pydantic location as a JSON pointer into the body (union tags dropped)."""
    parts: list[str] = []
    for part in loc:
        if isinstance(part, str) and (part in _TAGS or part.startswith("filter:")):
            continue
        parts.append(str(part).replace("~", "~0").replace("/", "~1"))
    return "/".join([base, *parts])


def parse(raw: Any, base: str) -> FlowDefinition:
    """The definition, or a 400 for each problem (at most 50) with the pointer of its value."""
    try:
        return FlowDefinition.model_validate(raw)
    except ValidationError as exc:
        errors: list[APIError] = []
        for item in exc.errors():
            loc = tuple(item.get("loc", ()))
            kind = item.get("type", "")
            if kind == "extra_forbidden":
                message = f"'{loc[-1]}' is not a field of this part of a flow definition."
            elif kind == "missing":
                message = f"'{loc[-1]}' is a required field." if loc else "A required field is missing."
            elif kind == "union_tag_invalid":
                given = item.get("input")
                named = given.get("type") if isinstance(given, dict) else given
                message = f"Unknown type: {named!r} is not a type the spec has here."
            else:
                message = f"Invalid flow definition: {item.get('msg')}"
            errors.append(InvalidInput(message, pointer=pointer(loc, base)))
        raise ErrorList(errors[:50]) from None
