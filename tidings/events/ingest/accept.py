"""Accepting events: check a payload completely, then turn it into one inbox row.

Every problem is reported with its pointer (a bulk request reports all of them, each with
its index). What goes into the inbox is a normalised envelope (`envelope.Envelope`).

Legacy Track/Identify payloads are stored as received (`legacy_track` / `legacy_identify`)
and mapped when processed: Klaviyo answered `1` for any JSON object, so a payload that
cannot be mapped becomes a dead letter instead of a refusal.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import json
import math
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import unquote_plus

import msgspec
from pydantic import ValidationError

from tidings.db.base import utcnow
from tidings.events.ingest import structs
from tidings.events.ingest.envelope import (
    Envelope,
    EventEntry,
    Group,
    Identifiers,
    ProfileEntry,
    Source,
    encode,
)
from tidings.events.ingest.schemas import (
    BulkEventData,
    EventAttributes,
    ProfileBlock,
    ProfileBlockData,
    ProfileEventsData,
    unstorable_text,
)
from tidings.jsonapi.errors import APIError, ErrorList, InvalidInput
from tidings.profiles.identifiers import check_identifiers

MAX_PROPERTIES = 400
MAX_STRING_BYTES = 100 * 1024
MAX_DEPTH = 100  # levels of objects and arrays inside properties: deeper cannot be read back
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


def _oversized(text: str) -> bool:
    return len(text) > MAX_STRING_BYTES // 4 and len(text.encode()) > MAX_STRING_BYTES


def _unstorable(value: Any, pointer: str, out: list[APIError], depth: int = 0) -> None:
    """Strings (keys too) over 100 KB, numbers that are not finite, nesting past MAX_DEPTH."""
    if isinstance(value, str):
        if _oversized(value):
            out.append(InvalidInput("Strings may be at most 100 KB.", pointer=pointer))
    elif isinstance(value, float) and not math.isfinite(value):  # NaN, Infinity, 1e400: not JSON
        out.append(InvalidInput("Numbers must be finite.", pointer=pointer))
    elif isinstance(value, dict | list) and depth > MAX_DEPTH:
        out.append(InvalidInput(f"Properties may nest at most {MAX_DEPTH} levels.", pointer=pointer))
    elif isinstance(value, dict):
        for key, item in value.items():
            if _oversized(key):
                out.append(InvalidInput("Property names may be at most 100 KB.", pointer=f"{pointer}/{key}"))
            _unstorable(item, f"{pointer}/{key}", out, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _unstorable(item, f"{pointer}/{index}", out, depth + 1)


def _plainly_within_limits(properties: dict[str, Any]) -> bool:
    """For values msgspec decoded (JSON's own types only): their compact JSON is at least as long
    as any string or key inside, and holds a bracket per level of nesting, so below both limits
    the Python walk through every value can be skipped (encoding and counting run in C)."""
    try:
        encoded = msgspec.json.encode(properties)
    except RecursionError:  # nested too deep even for msgspec
        return False
    brackets = encoded.count(b"{") + encoded.count(b"[")
    return len(encoded) <= MAX_STRING_BYTES and brackets <= MAX_DEPTH


def check_properties(
    properties: dict[str, Any], pointer: str, errors: list[APIError], *, plain: bool = False
) -> None:
    """At most 400 properties; no string or key over 100 KB; finite numbers; at most MAX_DEPTH
    levels of nesting. `plain` for values msgspec decoded."""
    if len(properties) > MAX_PROPERTIES:
        errors.append(
            InvalidInput(
                f"At most {MAX_PROPERTIES} properties are allowed; got {len(properties)}.", pointer=pointer
            )
        )
    if not plain or not _plainly_within_limits(properties):
        _unstorable(properties, pointer, errors)


def check_time(when: dt.datetime | None, pointer: str, errors: list[APIError]) -> dt.datetime | None:
    """`when` in UTC (naive is UTC), if it is after 1990 and at most a year ahead."""
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
    return when


def normalize_profile(
    block: ProfileBlockData | structs.ProfileData, pointer: str, errors: list[APIError]
) -> ProfileEntry:
    """The profile block's identifiers (checked and normalised) and the attributes it sent."""
    block_id = block.id
    patch: dict[str, Any] | None = None
    if isinstance(block, structs.ProfileData):  # the plain form has no meta
        plain, attrs = True, structs.sent_attributes(block.attributes)
    else:
        plain, attrs = False, block.attributes.model_dump(exclude_unset=True)
        meta = block.attributes.meta or block.meta
        if meta and meta.patch_properties:
            patch = meta.patch_properties.model_dump(exclude_none=True)
            where = "attributes/meta" if block.attributes.meta else "meta"
            for name in ("append", "unappend"):
                if name in patch:
                    check_properties(patch[name], f"{pointer}/{where}/patch_properties/{name}", errors)
    raw: dict[str, object] = {
        name: attrs[name]
        for name in ("email", "phone_number", "external_id", "anonymous_id")
        if name in attrs
    }
    if "kx" in attrs:
        raw["_kx"] = attrs["kx"]
    checked = check_identifiers(raw, has_profile_id=bool(block_id))
    for error in checked.errors:
        errors.append(InvalidInput(error.detail, pointer=f"{pointer}/attributes/{error.field}"))
    identifiers = identifiers_of(checked.values)
    if not block_id and identifiers == NO_IDENTIFIERS and not checked.errors:
        errors.append(
            InvalidInput(
                "The profile needs an identifier: id, email, phone_number, external_id, anonymous_id or _kx.",
                pointer=f"{pointer}/attributes",
            )
        )
    if isinstance(attrs.get("properties"), dict):
        check_properties(attrs["properties"], f"{pointer}/attributes/properties", errors, plain=plain)
    return ProfileEntry(
        id=block_id,
        identifiers=identifiers,
        ignored=checked.ignored,
        attributes={name: attrs[name] for name in PROFILE_ATTRIBUTES if name in attrs},
        patch=patch,
    )


NO_IDENTIFIERS = Identifiers()


def identifiers_of(values: dict[str, str | None]) -> Identifiers:
    """The identifiers `check_identifiers` kept (keyed by attribute name; None: sent as null)."""
    return Identifiers(
        email=values.get("email"),
        phone_number=values.get("phone_number"),
        external_id=values.get("external_id"),
        anonymous_id=values.get("anonymous_id"),
        kx=values.get("_kx"),
    )


class EventFields(Protocol):
    """An event's attributes, as pydantic or msgspec (`structs`, time still text) read them."""

    @property
    def time(self) -> dt.datetime | str | None: ...
    @property
    def properties(self) -> dict[str, Any]: ...
    @property
    def metric(self) -> MetricFields: ...
    @property
    def value(self) -> float | None: ...
    @property
    def value_currency(self) -> str | None: ...
    @property
    def unique_id(self) -> str | None: ...
    @property
    def backfill(self) -> bool | None: ...


class MetricFields(Protocol):
    @property
    def data(self) -> MetricDataFields: ...


class MetricDataFields(Protocol):
    @property
    def attributes(self) -> MetricAttributeFields: ...


class MetricAttributeFields(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def service(self) -> str | None: ...


def normalize_event(
    attrs: EventFields, pointer: str, errors: list[APIError], backfill: bool | None
) -> EventEntry:
    plain = isinstance(attrs, msgspec.Struct)
    when = structs.plain_instant(attrs.time) if isinstance(attrs.time, str) else attrs.time
    check_properties(attrs.properties, f"{pointer}/properties", errors, plain=plain)
    metric = attrs.metric.data.attributes
    name = metric.name.strip()  # as legacy track does: "  Placed Order " is "Placed Order"
    if not name:
        errors.append(
            InvalidInput("The metric name cannot be blank.", pointer=f"{pointer}/metric/data/attributes/name")
        )
    return EventEntry(
        metric=name,
        service=(metric.service or "api").strip().lower() or "api",
        properties=attrs.properties,
        time=check_time(when, f"{pointer}/time", errors),
        value=attrs.value,
        value_currency=attrs.value_currency.upper() if attrs.value_currency else None,
        unique_id=attrs.unique_id or None,
        backfill=bool(attrs.backfill if attrs.backfill is not None else backfill),
    )


def raise_all(errors: list[APIError]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ErrorList(errors)


def check_total(total: int, errors: list[APIError]) -> None:
    if total > 1000:
        errors.append(
            InvalidInput(f"At most 1,000 events per request; got {total}.", pointer="/data/attributes")
        )


def accept_event(
    attrs: EventAttributes | structs.EventAttributes, source: Source, received: dt.datetime
) -> str:
    """create_event / create_client_event: one profile, one event. Returns the inbox payload."""
    errors: list[APIError] = []
    base = "/data/attributes"
    profile = normalize_profile(attrs.profile.data, f"{base}/profile/data", errors)
    event = normalize_event(attrs, base, errors, attrs.backfill)
    raise_all(errors)
    plain = isinstance(attrs, structs.EventAttributes)
    return encode(Envelope(source, received, [Group(profile, [event])]), plain=plain)


def accept_groups(
    groups: Sequence[ProfileEventsData | structs.ProfileEventsData],
    base: str,
    source: Source,
    received: dt.datetime,
) -> str:
    """bulk_create_events (many groups) / bulk_create_client_events (one): profiles and their events.

    The spec says a bulk request with a bad event fails as a whole, so every error is
    reported, each with its pointer, and nothing is accepted."""
    errors: list[APIError] = []
    normalized: list[Group] = []
    total = 0
    for g, group in enumerate(groups):
        pointer = f"{base}/{g}/attributes" if base else "/data/attributes"
        attrs = group.attributes
        profile = normalize_profile(attrs.profile.data, f"{pointer}/profile/data", errors)
        items: Sequence[BulkEventData | structs.BulkEventData] = attrs.events.data
        events = [
            normalize_event(item.attributes, f"{pointer}/events/data/{e}/attributes", errors, attrs.backfill)
            for e, item in enumerate(items)
        ]
        total += len(events)
        normalized.append(Group(profile, events))
    check_total(total, errors)
    raise_all(errors)
    plain = all(isinstance(group, structs.ProfileEventsData) for group in groups)
    return encode(Envelope(source, received, normalized), plain=plain)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def item_errors(groups: Any, base: str) -> list[APIError]:
    """For a bulk body whose structure the models refused: the limit errors (identifiers, times,
    properties) of the profiles and events that are well formed on their own, so one request
    reports every problem, not only the structural ones. `groups` is the parsed list of groups
    (`base` its pointer), or the one group of the client endpoint (`base` empty)."""
    errors: list[APIError] = []
    listed = groups if isinstance(groups, list) else [groups]
    total = longest = 0
    for g, group in enumerate(listed):
        attrs = group.get("attributes") if isinstance(group, dict) else None
        if not isinstance(attrs, dict):
            continue
        pointer = f"{base}/{g}/attributes" if base else "/data/attributes"
        backfill = attrs.get("backfill") if isinstance(attrs.get("backfill"), bool) else None
        profile = attrs.get("profile")
        with contextlib.suppress(ValidationError):
            block = ProfileBlock.model_validate(profile)
            normalize_profile(block.data, f"{pointer}/profile/data", errors)
        events = attrs.get("events", {}).get("data") if isinstance(attrs.get("events"), dict) else None
        events = events if isinstance(events, list) else []
        total, longest = total + len(events), max(longest, len(events))
        for e, raw in enumerate(events):
            try:
                event = BulkEventData.model_validate(raw)
            except ValidationError:
                continue
            normalize_event(event.attributes, f"{pointer}/events/data/{e}/attributes", errors, backfill)
    if longest <= 1000:  # else the models said it already
        check_total(total, errors)
    return errors


def _deeper_than(value: Any, levels: int) -> bool:
    """Whether objects and arrays nest in `value` more than `levels` deep."""
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
    if children is None:
        return False
    return levels == 0 or any(_deeper_than(item, levels - 1) for item in children)


def storable_legacy(payload: dict[str, Any]) -> bool:
    """Whether a legacy payload can be kept: no lone surrogate or NUL in its text (keys too), and
    properties nested at most MAX_DEPTH levels (they sit two levels inside the payload)."""
    errors: list[APIError] = []
    unstorable_text(payload, "", errors)
    return not errors and not _deeper_than(payload, MAX_DEPTH + 2)


def decode_legacy(data: str | None) -> dict[str, Any] | None:
    """A legacy `data` value: base64 JSON (GET and some POSTs) or plain JSON (form POST).

    `NaN` and `Infinity` are refused (`0`): Python's `json.dumps`, which the `klaviyo` package
    uses, writes them for float nan/inf, but they are not JSON and PostgreSQL cannot store them.
    So is a payload no database can store or read back (`storable_legacy`)."""
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
        except (ValueError, RecursionError):  # RecursionError: nested past what Python parses
            continue
        if isinstance(value, dict):
            return value if storable_legacy(value) else None
    return None
