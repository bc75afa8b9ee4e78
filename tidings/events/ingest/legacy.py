"""Legacy Track and Identify (Klaviyo's v1/v2 API): map their payloads to profile blocks and events.

    track:    {"token", "event", "customer_properties": {"$email", ...}, "properties": {...}, "time"}
    identify: {"token", "properties": {"$email", "$first_name", ..., "Plan": "Gold"}}

`$`-prefixed person keys map to profile fields, `$id` to external_id, location keys into
`location`; other keys become custom properties and no `$` key leaks into them. In event
properties `$event_id` is the unique id and `$value` the value; `time` is Unix seconds.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from tidings.events.ingest.accept import NO_IDENTIFIERS, check_properties, check_time, identifiers_of
from tidings.events.ingest.envelope import EventEntry, Group, ProfileEntry
from tidings.jsonapi.errors import APIError, InvalidInput
from tidings.profiles.identifiers import check_identifiers

PERSON_FIELDS = {
    "$first_name": "first_name",
    "$last_name": "last_name",
    "$organization": "organization",
    "$title": "title",
    "$image": "image",
    "$locale": "locale",
}
LOCATION_FIELDS = {
    "$city": "city",
    "$region": "region",
    "$country": "country",
    "$zip": "zip",
    "$address1": "address1",
    "$address2": "address2",
    "$latitude": "latitude",
    "$longitude": "longitude",
    "$timezone": "timezone",
}
IDENTIFIERS = {
    "$email": "email",
    "$phone_number": "phone_number",
    "$id": "external_id",
    "$anonymous": "anonymous_id",
}
ALIASES = {"email": "email", "id": "external_id", "phone_number": "phone_number"}  # older clients


class LegacyError(ValueError):
    pass


def _check(properties: dict[str, Any], where: str) -> None:
    """The limits of the JSON API (400 properties, 100 KB strings, finite numbers)."""
    errors: list[APIError] = []
    check_properties(properties, where, errors)
    if errors:
        raise LegacyError(f"{errors[0].detail} ({errors[0].pointer})")


def profile_block(person: Any) -> ProfileEntry:
    """The normalised profile block (as in accept.normalize_profile) of a legacy person dict."""
    if not isinstance(person, dict):
        raise LegacyError("customer_properties must be an object")
    raw: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    location: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    for key, value in person.items():
        if key in IDENTIFIERS:
            raw[IDENTIFIERS[key]] = None if value is None else str(value)
        elif key in ALIASES:  # the `$` key wins; an alias is never a custom property
            raw.setdefault(ALIASES[key], None if value is None else str(value))
        elif key in PERSON_FIELDS:
            attributes[PERSON_FIELDS[key]] = value
        elif key in LOCATION_FIELDS:
            location[LOCATION_FIELDS[key]] = value
        elif not key.startswith("$"):
            properties[key] = value
    _check(properties, "/customer_properties")
    checked = check_identifiers({k: v for k, v in raw.items() if v is not None})
    identifiers = identifiers_of(checked.values)
    if identifiers == NO_IDENTIFIERS:
        problems = "; ".join(e.detail for e in checked.errors)
        raise LegacyError(problems or "the person has no $email, $phone_number or $id")
    if location:
        attributes["location"] = location
    if properties:
        attributes["properties"] = properties
    return ProfileEntry(identifiers=identifiers, ignored=checked.ignored, attributes=attributes)


def _time(value: Any, received: dt.datetime) -> dt.datetime:
    if value is None or value == "":
        return received
    try:
        when = dt.datetime.fromtimestamp(int(float(value)), dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise LegacyError(f"time must be Unix seconds, got {value!r}") from None
    errors: list[APIError] = []
    checked = check_time(when, "/time", errors)
    if errors or checked is None:
        raise LegacyError(errors[0].detail if errors else "time is out of range")
    return checked


def track_group(payload: dict[str, Any], received: dt.datetime) -> Group:
    name = payload.get("event")
    if not isinstance(name, str) or not name.strip():
        raise LegacyError("track needs an event name")
    person = payload.get("customer_properties")
    if person is None:  # some clients put identifiers at the top level
        person = {k: v for k, v in payload.items() if k in IDENTIFIERS or k in ALIASES}
    sent = payload.get("properties") or {}  # PHP clients write an empty one as []
    if not isinstance(sent, dict):  # checked first: dict() of a list or text raises
        raise LegacyError("properties must be an object")
    properties = dict(sent)
    unique_id = properties.pop("$event_id", None)
    value = properties.pop("$value", None)
    if properties.pop("__track_once__", False):
        unique_id = "__track_once__"  # only the first such event per profile and metric
    try:
        numeric = None if value is None else float(value)
    except (TypeError, ValueError):
        raise LegacyError(f"$value must be a number, got {value!r}") from None
    if numeric is not None and not math.isfinite(numeric):
        raise LegacyError(f"$value must be a finite number, got {value!r}")
    _check(properties, "/properties")
    event = EventEntry(
        metric=name.strip()[:127],
        service="api",
        properties=properties,
        time=_time(payload.get("time"), received),
        value=numeric,
        unique_id=None if unique_id is None else str(unique_id),
    )
    return Group(profile_block(person), [event])


def identify_group(payload: dict[str, Any]) -> Group:
    person = payload.get("properties")
    if person is None:
        raise LegacyError("identify needs properties")
    return Group(profile_block(person), [])


def as_invalid(error: LegacyError) -> InvalidInput:
    return InvalidInput(str(error))
