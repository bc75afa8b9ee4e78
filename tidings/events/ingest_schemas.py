"""Bodies of the ingestion endpoints: create_event, bulk_create_events and their client twins.

The shapes follow the spec (EventCreateQueryV2, EventsBulkCreateJob, EventsBulkCreateQuery).
Pydantic checks the structure; `ingest.validate_*` then checks Klaviyo's limits and the
profile's identifiers, reporting every problem with its pointer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


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


class EventAttributes(Strict):
    properties: dict[str, Any]
    time: dt.datetime | None = None
    value: float | None = Field(None, allow_inf_nan=False)
    value_currency: str | None = Field(None, max_length=3)
    unique_id: str | None = Field(None, max_length=255)
    backfill: bool | None = False
    metric: MetricRef
    profile: ProfileBlock


class EventData(Strict):
    type: Literal["event"]
    attributes: EventAttributes


class EventCreate(Strict):
    data: EventData


class BulkEventAttributes(Strict):
    properties: dict[str, Any]
    time: dt.datetime | None = None
    value: float | None = Field(None, allow_inf_nan=False)
    value_currency: str | None = Field(None, max_length=3)
    unique_id: str | None = Field(None, max_length=255)
    backfill: bool | None = None
    metric: MetricRef


class BulkEventData(Strict):
    type: Literal["event"]
    attributes: BulkEventAttributes


class BulkEvents(Strict):
    data: list[BulkEventData] = Field(min_length=1, max_length=1000)


class ProfileEventsAttributes(Strict):
    backfill: bool | None = False
    profile: ProfileBlock
    events: BulkEvents


class ProfileEventsData(Strict):
    type: Literal["event-bulk-create"]
    attributes: ProfileEventsAttributes


class ProfileEvents(Strict):
    """One profile and its events: the client bulk body, and each entry of the private one."""

    data: ProfileEventsData


class BulkJobGroups(Strict):
    data: list[ProfileEventsData] = Field(min_length=1, max_length=1000)


class BulkJobAttributes(Strict):
    events_bulk_create: BulkJobGroups = Field(alias="events-bulk-create")


class BulkJobData(Strict):
    type: Literal["event-bulk-create-job"]
    attributes: BulkJobAttributes


class BulkJobCreate(Strict):
    data: BulkJobData
