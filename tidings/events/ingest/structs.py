"""Plainly valid ingestion bodies, decoded and checked in one pass (msgspec).

Through pydantic a 1,000-event bulk body is parsed into Python objects, then validated into
models: most of the CPU an accepted event costs. msgspec decodes the same bytes straight into
typed structs, checking the structure as it goes, many times faster. The structs below
mirror the models of `schemas` but accept less: only the spellings a client of the
spec sends (the `events-bulk-create` and `_kx` aliases, not the Python names; `true`/`false`
for booleans; times in RFC 3339 form with at most microseconds), and no `meta` blocks.

A body they refuse is not refused: it goes through the pydantic models, which accept the rest
and report every error with its pointer. So a request gets the same answer either way, and
the inbox gets the same envelope (tests/events/ingest/test_structs.py compares both paths on
random documents).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType, field

Text = str | None | UnsetType


class _Strict(Struct, forbid_unknown_fields=True, gc=False):
    """Unknown fields refused, as the models' `extra="forbid"` does. Not tracked by the garbage
    collector (a struct holds no cycle): a bulk body makes thousands of them."""


class MetricAttributes(_Strict):
    name: Annotated[str, Meta(min_length=1, max_length=127)]
    service: Annotated[str, Meta(max_length=64)] | None = None


class MetricData(_Strict):
    type: Literal["metric"]
    attributes: MetricAttributes


class MetricRef(_Strict):
    data: MetricData


class Location(_Strict):
    address1: Text = UNSET
    address2: Text = UNSET
    city: Text = UNSET
    country: Text = UNSET
    latitude: str | float | UnsetType | None = UNSET
    longitude: str | float | UnsetType | None = UNSET
    region: Text = UNSET
    zip: Text = UNSET
    timezone: Text = UNSET
    ip: Text = UNSET


class ProfileAttributes(_Strict):
    email: Text = UNSET
    phone_number: Text = UNSET
    external_id: Text = UNSET
    anonymous_id: Text = UNSET
    kx: Text = field(default=UNSET, name="_kx")
    first_name: Text = UNSET
    last_name: Text = UNSET
    organization: Text = UNSET
    locale: Text = UNSET
    title: Text = UNSET
    image: Text = UNSET
    location: Location | UnsetType | None = UNSET
    properties: dict[str, Any] | UnsetType | None = UNSET


class ProfileData(_Strict):
    type: Literal["profile"]
    attributes: ProfileAttributes
    id: str | None = None


class ProfileRef(_Strict):
    data: ProfileData


class EventAttributes(_Strict):
    properties: dict[str, Any]
    metric: MetricRef
    profile: ProfileRef
    time: str | None = None
    value: float | None = None
    value_currency: Annotated[str, Meta(max_length=3)] | None = None
    unique_id: Annotated[str, Meta(max_length=255)] | None = None
    backfill: bool | None = False


class EventData(_Strict):
    type: Literal["event"]
    attributes: EventAttributes


class EventCreate(_Strict):
    data: EventData


class BulkEventAttributes(_Strict):
    properties: dict[str, Any]
    metric: MetricRef
    time: str | None = None
    value: float | None = None
    value_currency: Annotated[str, Meta(max_length=3)] | None = None
    unique_id: Annotated[str, Meta(max_length=255)] | None = None
    backfill: bool | None = None


class BulkEventData(_Strict):
    type: Literal["event"]
    attributes: BulkEventAttributes


class BulkEvents(_Strict):
    data: Annotated[list[BulkEventData], Meta(min_length=1, max_length=1000)]


class ProfileEventsAttributes(_Strict):
    profile: ProfileRef
    events: BulkEvents
    backfill: bool | None = False


class ProfileEventsData(_Strict):
    type: Literal["event-bulk-create"]
    attributes: ProfileEventsAttributes


class ProfileEvents(_Strict):
    data: ProfileEventsData


class BulkJobGroups(_Strict):
    data: Annotated[list[ProfileEventsData], Meta(min_length=1, max_length=1000)]


class BulkJobAttributes(_Strict):
    events_bulk_create: BulkJobGroups = field(name="events-bulk-create")


class BulkJobData(_Strict):
    type: Literal["event-bulk-create-job"]
    attributes: BulkJobAttributes


class BulkJobCreate(_Strict):
    data: BulkJobData


class NotPlain(Exception):
    """The body is not in the plain form these structs take: let the pydantic models judge it."""


# What pydantic's datetime parser reads the same way: date, time to the second, at most six
# fraction digits (pydantic truncates more, msgspec rounds), an optional offset.
_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)?")


def plain_instant(text: str) -> dt.datetime:
    if not _TIME.fullmatch(text):
        raise NotPlain
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise NotPlain from None


def sent_attributes(attrs: ProfileAttributes) -> dict[str, Any]:
    """The attributes a block sent, keyed as pydantic's `model_dump(exclude_unset=True)` keys them."""
    out: dict[str, Any] = {}
    for name in attrs.__struct_fields__:
        value = getattr(attrs, name)
        if value is UNSET:
            continue
        if isinstance(value, Location):
            value = {
                key: getattr(value, key)
                for key in value.__struct_fields__
                if getattr(value, key) is not UNSET
            }
        out[name] = value
    return out


Document = TypeVar("Document", bound=Struct)


def _decoder(kind: type[Document]) -> Callable[[bytes], Document]:
    decode = msgspec.json.Decoder(kind).decode

    def read(body: bytes) -> Document:
        try:
            return decode(body)
        except (msgspec.DecodeError, RecursionError):  # malformed, another shape, nested too deep
            raise NotPlain from None  # pydantic says which

    return read


read_event = _decoder(EventCreate)
read_bulk = _decoder(BulkJobCreate)
read_client_bulk = _decoder(ProfileEvents)
