"""Accepting events: check a payload completely, then turn it into one inbox row.

Every problem is reported with its pointer (a bulk request reports all of them, each with
its index). What goes into the inbox is a normalised envelope:

    {"source": "api" | "client", "received": ISO, "groups": [
        {"profile": {"id", "identifiers": {...}, "ignored": [...], "attributes": {...}, "patch": {...}},
         "events": [{"metric", "service", "properties", "time", "value", "value_currency",
                     "unique_id", "backfill"}]}]}

Legacy Track/Identify payloads are stored as received (`legacy_track` / `legacy_identify`)
and mapped when processed: Klaviyo answered `1` for any JSON object, so a payload that
cannot be mapped becomes a dead letter instead of a refusal.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any
from urllib.parse import unquote_plus

from tidings.db.base import utcnow
from tidings.events.ingest_schemas import (
    BulkEventAttributes,
    EventAttributes,
    ProfileBlockData,
    ProfileEventsData,
)
from tidings.jsonapi.errors import APIError, ErrorList, InvalidInput
from tidings.profiles.identifiers import check_identifiers

MAX_PROPERTIES = 400
MAX_STRING_BYTES = 100 * 1024
OLDEST = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
PROFILE_ATTRIBUTES = (
    "first_name",
    "last_name",
    "organization",
    "locale",
    "title",
    "image",
    "location",
    "properties",
)


def _oversized_strings(value: Any, pointer: str, out: list[APIError]) -> None:
    if isinstance(value, str):
        if len(value) > MAX_STRING_BYTES // 4 and len(value.encode()) > MAX_STRING_BYTES:
            out.append(InvalidInput("Strings may be at most 100 KB.", pointer=pointer))
    elif isinstance(value, dict):
        for key, item in value.items():
            _oversized_strings(item, f"{pointer}/{key}", out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _oversized_strings(item, f"{pointer}/{index}", out)


def check_properties(properties: dict[str, Any], pointer: str, errors: list[APIError]) -> None:
    if len(properties) > MAX_PROPERTIES:
        errors.append(
            InvalidInput(
                f"At most {MAX_PROPERTIES} properties are allowed; got {len(properties)}.", pointer=pointer
            )
        )
    _oversized_strings(properties, pointer, errors)


def check_time(when: dt.datetime | None, pointer: str, errors: list[APIError]) -> str | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    try:
        when = when.astimezone(dt.UTC)
    except OverflowError:  # 0001-01-01 east of UTC, 9999-12-31 west of it
        errors.append(InvalidInput("time is out of range.", pointer=pointer))
        return None
    if when < OLDEST:
        errors.append(InvalidInput("time must be after 1990-01-01.", pointer=pointer))
    elif when > utcnow() + dt.timedelta(days=365):
        errors.append(InvalidInput("time can be at most one year in the future.", pointer=pointer))
    return when.isoformat()


def normalize_profile(block: ProfileBlockData, pointer: str, errors: list[APIError]) -> dict[str, Any]:
    """The profile block's identifiers (checked and normalised) and the attributes it sent."""
    attrs = block.attributes.model_dump(exclude_unset=True)
    raw: dict[str, object] = {
        name: attrs[name]
        for name in ("email", "phone_number", "external_id", "anonymous_id")
        if name in attrs
    }
    if "kx" in attrs:
        raw["_kx"] = attrs["kx"]
    checked = check_identifiers(raw, has_profile_id=bool(block.id))
    for error in checked.errors:
        errors.append(InvalidInput(error.detail, pointer=f"{pointer}/attributes/{error.field}"))
    identifiers = {name: value for name, value in checked.values.items() if value is not None}
    if not block.id and not identifiers and not checked.errors:
        errors.append(
            InvalidInput(
                "The profile needs an identifier: id, email, phone_number, external_id, anonymous_id or _kx.",
                pointer=f"{pointer}/attributes",
            )
        )
    if isinstance(attrs.get("properties"), dict):
        check_properties(attrs["properties"], f"{pointer}/attributes/properties", errors)
    meta = block.attributes.meta or block.meta
    patch = meta.patch_properties.model_dump(exclude_none=True) if meta and meta.patch_properties else None
    return {
        "id": block.id,
        "identifiers": identifiers,
        "ignored": checked.ignored,
        "attributes": {name: attrs[name] for name in PROFILE_ATTRIBUTES if name in attrs},
        "patch": patch,
    }


def normalize_event(
    attrs: EventAttributes | BulkEventAttributes, pointer: str, errors: list[APIError], backfill: bool | None
) -> dict[str, Any]:
    check_properties(attrs.properties, f"{pointer}/properties", errors)
    metric = attrs.metric.data.attributes
    return {
        "metric": metric.name,
        "service": (metric.service or "api").strip().lower() or "api",
        "properties": attrs.properties,
        "time": check_time(attrs.time, f"{pointer}/time", errors),
        "value": attrs.value,
        "value_currency": attrs.value_currency.upper() if attrs.value_currency else None,
        "unique_id": attrs.unique_id or None,
        "backfill": bool(attrs.backfill if attrs.backfill is not None else backfill),
    }


def _raise(errors: list[APIError]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ErrorList(errors)


def envelope(source: str, groups: list[dict[str, Any]], received: dt.datetime) -> str:
    return json.dumps(
        {"source": source, "received": received.isoformat(), "groups": groups}, separators=(",", ":")
    )


def accept_event(attrs: EventAttributes, source: str, received: dt.datetime) -> str:
    """create_event / create_client_event: one profile, one event."""
    errors: list[APIError] = []
    base = "/data/attributes"
    profile = normalize_profile(attrs.profile.data, f"{base}/profile/data", errors)
    event = normalize_event(attrs, base, errors, attrs.backfill)
    _raise(errors)
    return envelope(source, [{"profile": profile, "events": [event]}], received)


def accept_groups(groups: list[ProfileEventsData], base: str, source: str, received: dt.datetime) -> str:
    """bulk_create_events (many groups) / bulk_create_client_events (one): profiles and their events.

    The spec says a bulk request with a bad event fails as a whole, so every error is
    reported, each with its pointer, and nothing is accepted."""
    errors: list[APIError] = []
    normalized = []
    total = 0
    for g, group in enumerate(groups):
        pointer = f"{base}/{g}/attributes" if base else "/data/attributes"
        profile = normalize_profile(group.attributes.profile.data, f"{pointer}/profile/data", errors)
        events = [
            normalize_event(
                item.attributes, f"{pointer}/events/data/{e}/attributes", errors, group.attributes.backfill
            )
            for e, item in enumerate(group.attributes.events.data)
        ]
        total += len(events)
        normalized.append({"profile": profile, "events": events})
    if total > 1000:
        errors.append(
            InvalidInput(f"At most 1,000 events per request; got {total}.", pointer="/data/attributes")
        )
    _raise(errors)
    return envelope(source, normalized, received)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def decode_legacy(data: str | None) -> dict[str, Any] | None:
    """A legacy `data` value: base64 JSON (GET and some POSTs) or plain JSON (form POST).

    `NaN` and `Infinity` are refused (`0`): Python's `json.dumps`, which the `klaviyo` package
    uses, writes them for float nan/inf, but they are not JSON and PostgreSQL cannot store them."""
    if not data:
        return None
    text = data.strip()
    candidates = [text]
    if not text.startswith("{"):
        try:
            padded = text + "=" * (-len(text) % 4)
            candidates.insert(0, base64.b64decode(padded.replace("-", "+").replace("_", "/")).decode())
        except (binascii.Error, UnicodeDecodeError, ValueError):
            pass
        candidates.append(unquote_plus(text))
    for candidate in candidates:
        try:
            value = json.loads(candidate, parse_constant=_not_json)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None
