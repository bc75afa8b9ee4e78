"""Bodies of the ingestion endpoints: create_event, bulk_create_events and their client twins.

The shapes follow the spec (EventCreateQueryV2, EventsBulkCreateJob, EventsBulkCreateQuery).
Pydantic checks the structure; `accept` then checks Klaviyo's limits and the
profile's identifiers, reporting every problem with its pointer.

Types are the spec's, without pydantic's lax conversions: `value` is a number (not `"9.99"`,
not `true`), `backfill` a boolean (not `"yes"`, not `1`), `time` a date-time string or a number
of Unix seconds (pydantic reads a 13-digit number as milliseconds).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    model_validator,
)
from pydantic_core import PydanticCustomError

from tidings.jsonapi.errors import APIError, ErrorList
from tidings.jsonapi.text import unstorable_text

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _instant(value: Any) -> Any:
    """A number is Unix seconds (range-checked later); text is pydantic's to parse as a date-time."""
    if isinstance(value, bool):
        raise PydanticCustomError("datetime_type", "Input should be a valid datetime")
    if isinstance(value, int | float):
        try:
            return dt.datetime.fromtimestamp(value, dt.UTC)
        except (OverflowError, OSError, ValueError):  # 1710072000000 is milliseconds: year 56000
            raise PydanticCustomError("datetime_range", "time is out of range.") from None
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        raise PydanticCustomError(
            "datetime_type", "time must be an ISO 8601 date-time, or a number (not text) of Unix seconds."
        )
    return value


Instant = Annotated[dt.datetime | None, BeforeValidator(_instant)]
Value = Annotated[StrictFloat | None, Field(allow_inf_nan=False)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class MetricAttributes(Strict):
    name: str = Field(min_length=1, max_length=127)
    service: str | None = Field(None, max_length=64)


class MetricData(Strict):
    type: Literal["metric"]
    attributes: MetricAttributes


class MetricRef(Strict):
    data: MetricData


class Location(Strict):
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    country: str | None = None
    latitude: str | float | None = None
    longitude: str | float | None = None
    region: str | None = None
    zip: str | None = None
    timezone: str | None = None
    ip: str | None = None


class PatchProperties(Strict):
    append: dict[str, Any] | None = None
    unappend: dict[str, Any] | None = None
    unset: str | list[str] | None = None


class ProfileMeta(Strict):
    patch_properties: PatchProperties | None = None
    patch_identifiers: dict[str, Any] | None = None


class ProfileBlockAttributes(Strict):
    email: str | None = None
    phone_number: str | None = None
    external_id: str | None = None
    anonymous_id: str | None = None
    kx: str | None = Field(None, alias="_kx")
    first_name: str | None = None
    last_name: str | None = None
    organization: str | None = None
    locale: str | None = None
    title: str | None = None
    image: str | None = None
    location: Location | None = None
    properties: dict[str, Any] | None = None
    # create_event puts the profile's meta inside its attributes
    meta: ProfileMeta | None = None


class ProfileBlockData(Strict):
    type: Literal["profile"]
    id: str | None = None
    attributes: ProfileBlockAttributes
    # the bulk and onsite shapes put it beside the attributes
    meta: ProfileMeta | None = None


class ProfileBlock(Strict):
    data: ProfileBlockData


class Document(Strict):
    """A whole request body. Its text is checked before its shape, all of it (unknown keys too, as
    they are echoed in errors), and refused with every pointer: pydantic errors cannot point into
    free-form values. `ErrorList` is not a `ValueError`, so pydantic lets it through."""

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        errors: list[APIError] = []
        unstorable_text(data, "", errors)
        if errors:
            raise ErrorList(errors)
        return data


class EventAttributes(Strict):
    properties: dict[str, Any]
    time: Instant = None
    value: Value = None
    value_currency: str | None = Field(None, max_length=3)
    unique_id: str | None = Field(None, max_length=255)
    backfill: StrictBool | None = False
    metric: MetricRef
    profile: ProfileBlock


class EventData(Strict):
    type: Literal["event"]
    attributes: EventAttributes


class EventCreate(Document):
    data: EventData


class BulkEventAttributes(Strict):
    properties: dict[str, Any]
    time: Instant = None
    value: Value = None
    value_currency: str | None = Field(None, max_length=3)
    unique_id: str | None = Field(None, max_length=255)
    backfill: StrictBool | None = None
    metric: MetricRef


class BulkEventData(Strict):
    type: Literal["event"]
    attributes: BulkEventAttributes


class BulkEvents(Strict):
    data: list[BulkEventData] = Field(min_length=1, max_length=1000)


class ProfileEventsAttributes(Strict):
    backfill: StrictBool | None = False
    profile: ProfileBlock
    events: BulkEvents


class ProfileEventsData(Strict):
    type: Literal["event-bulk-create"]
    attributes: ProfileEventsAttributes


class ProfileEvents(Document):
    """One profile and its events: the client bulk body, and each entry of the private one."""

    data: ProfileEventsData


class BulkJobGroups(Strict):
    data: list[ProfileEventsData] = Field(min_length=1, max_length=1000)


class BulkJobAttributes(Strict):
    events_bulk_create: BulkJobGroups = Field(alias="events-bulk-create")


class BulkJobData(Strict):
    type: Literal["event-bulk-create-job"]
    attributes: BulkJobAttributes


class BulkJobCreate(Document):
    data: BulkJobData
