"""The envelope: what acceptance writes into an `event_inbox` row and the processor reads back.

One accepted request becomes one envelope: where it came from, when it was received, and its
groups, each a profile block (identifiers checked and normalised, the attributes as sent) and
its events (normalised: metric name stripped, service lower-cased, time in UTC). Legacy
Track/Identify rows hold their payload as received instead, mapped to a `Group` when processed.

Stored as a JSON object with these field names (`_kx` for `Identifiers.kx`), as it always was:
rows written before these structs existed decode into them (a time written `+00:00` reads as
one written `Z`; fields they lack take the defaults below; fields nobody knows are ignored).
The profile's `attributes` and `patch` stay the dicts the request sent: which keys are present
is what they mean ("not sent" is not `null`), and the profile domain reads them as such.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

import msgspec
from msgspec import Struct, field

Source = Literal["api", "client"]


class _Entry(Struct, gc=False):
    """Not tracked by the garbage collector (an entry holds no cycle): a batch decodes thousands."""


class Identifiers(Struct, frozen=True, omit_defaults=True, gc=False):
    """A profile block's identifiers, normalised; only those given are stored. Hashable: the
    processor resolves identical identifier-only blocks of a batch once."""

    email: str | None = None
    phone_number: str | None = None
    external_id: str | None = None
    anonymous_id: str | None = None
    kx: str | None = field(default=None, name="_kx")


class ProfileEntry(_Entry):
    id: str | None = None
    identifiers: Identifiers = Identifiers()
    ignored: list[str] = []  # invalid identifiers dropped because another one was valid
    attributes: dict[str, Any] = {}  # keyed as sent: first_name, location, properties, ...
    patch: dict[str, Any] | None = None  # meta.patch_properties: append, unappend, unset


class EventEntry(_Entry):
    metric: str
    service: str = "api"
    properties: dict[str, Any] = {}
    time: dt.datetime | None = None  # None: when the request was received
    value: float | None = None
    value_currency: str | None = None
    unique_id: str | None = None
    backfill: bool = False


class Group(_Entry):
    """One profile block and its events."""

    profile: ProfileEntry
    events: list[EventEntry] = []


class Envelope(_Entry):
    source: Source
    received: dt.datetime
    groups: list[Group]


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Envelope).decode


def encode(envelope: Envelope, *, plain: bool) -> str:
    """The inbox payload. `plain` for an envelope of values msgspec decoded, which are JSON's own
    and encode in C; a body read by `json.loads` may hold NaN or infinity (a location's latitude,
    say), which only `json.dumps` writes back as they came (msgspec would write `null`)."""
    if plain:
        return _encode(envelope).decode()
    return json.dumps(msgspec.to_builtins(envelope), separators=(",", ":"))


def decode(payload: str) -> Envelope:
    """An inbox payload, typed. `msgspec.DecodeError` (or `ValueError`) if it is not one."""
    try:
        return _decode(payload)
    except msgspec.DecodeError:
        # Not JSON as msgspec reads it: NaN or Infinity, which `encode` writes as it got them.
        return msgspec.convert(json.loads(payload), Envelope)


def group_json(group: Group) -> Any:
    """A group as JSON values (a dead letter's payload), NaN and all."""
    return msgspec.to_builtins(group)
