"""The envelope round-trips through the inbox: what acceptance encodes is what the processor
decodes, every field of it, and rows the code before the structs wrote still decode."""

from __future__ import annotations

import datetime as dt
import json
import math

import msgspec

from tidings.events.ingest import accept, envelope, processor, structs
from tidings.events.ingest.envelope import Envelope, EventEntry, Group, Identifiers, ProfileEntry
from tidings.events.ingest.schemas import BulkJobCreate

RECEIVED = dt.datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
PROFILE_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
BULK = "/data/attributes/events-bulk-create/data"


def _event(**attributes: object) -> dict:
    return {
        "type": "event",
        "attributes": {
            "properties": {"Total": 9.99, "Items": [{"SKU": "A-1", "Gift": True}], "Note": None},
            "metric": {
                "data": {"type": "metric", "attributes": {"name": " Placed Order ", "service": "Shopify"}}
            },
            "time": "2026-11-30T10:00:00.250000+02:00",
            "value": 9.99,
            "value_currency": "usd",
            "unique_id": "o-1",
            "backfill": True,
            **attributes,
        },
    }


def _group(profile: dict, *events: dict) -> dict:
    return {
        "type": "event-bulk-create",
        "attributes": {"profile": {"data": profile}, "events": {"data": list(events)}},
    }


# Every field of the envelope set: the first profile sends an id, every identifier, attributes
# and a patch (so the pydantic models read it: the plain form has no meta); the second an invalid
# phone number beside a valid email (ignored, not refused).
EVERYTHING = {
    "data": {
        "type": "event-bulk-create-job",
        "attributes": {
            "events-bulk-create": {
                "data": [
                    _group(
                        {
                            "type": "profile",
                            "id": PROFILE_ID,
                            "attributes": {
                                "email": "Ada@Example.com",
                                "phone_number": "+44 20 7183 8750",
                                "external_id": "x-1",
                                "anonymous_id": "anon-1",
                                "_kx": "kx-1",
                                "first_name": "Ada",
                                "location": {"city": "London", "latitude": 51.5},
                                "properties": {"Plan": "Gold"},
                            },
                            "meta": {"patch_properties": {"append": {"Tags": "vip"}, "unset": "Old"}},
                        },
                        _event(),
                        _event(time=None, value=None, value_currency=None, unique_id=None, backfill=None),
                    ),
                    _group(
                        {
                            "type": "profile",
                            "attributes": {"email": "grace@example.com", "phone_number": "not a phone"},
                        },
                        _event(unique_id="o-2"),
                    ),
                ]
            }
        },
    }
}

EXPECTED = [
    Group(
        ProfileEntry(
            id=PROFILE_ID,
            identifiers=Identifiers(
                email="ada@example.com",
                phone_number="+442071838750",
                external_id="x-1",
                anonymous_id="anon-1",
                kx="kx-1",
            ),
            ignored=[],
            attributes={
                "first_name": "Ada",
                "location": {"city": "London", "latitude": 51.5},
                "properties": {"Plan": "Gold"},
            },
            patch={"append": {"Tags": "vip"}, "unset": "Old"},
        ),
        [
            EventEntry(
                metric="Placed Order",
                service="shopify",
                properties={"Total": 9.99, "Items": [{"SKU": "A-1", "Gift": True}], "Note": None},
                time=dt.datetime(2026, 11, 30, 8, 0, 0, 250000, tzinfo=dt.UTC),
                value=9.99,
                value_currency="USD",
                unique_id="o-1",
                backfill=True,
            ),
            EventEntry(
                metric="Placed Order",
                service="shopify",
                properties={"Total": 9.99, "Items": [{"SKU": "A-1", "Gift": True}], "Note": None},
            ),
        ],
    ),
    Group(
        ProfileEntry(identifiers=Identifiers(email="grace@example.com"), ignored=["phone_number"]),
        [
            EventEntry(
                metric="Placed Order",
                service="shopify",
                properties={"Total": 9.99, "Items": [{"SKU": "A-1", "Gift": True}], "Note": None},
                time=dt.datetime(2026, 11, 30, 8, 0, 0, 250000, tzinfo=dt.UTC),
                value=9.99,
                value_currency="USD",
                unique_id="o-2",
                backfill=True,
            )
        ],
    ),
]


def _processed(kind: str, payload: str) -> list[processor.RowGroup]:
    """What the processor makes of an inbox row holding `payload`."""
    groups, failures = processor.expand(processor.InboxRow("01ROW", kind, payload, RECEIVED))
    assert failures == []
    return groups


def test_every_field_round_trips_from_acceptance_to_the_processor() -> None:
    document = BulkJobCreate.model_validate(EVERYTHING)
    payload = accept.accept_groups(document.data.attributes.events_bulk_create.data, BULK, "api", RECEIVED)
    groups = _processed("bulk", payload)
    assert [(g.pointer, g.source, g.received) for g in groups] == [
        ("/0", "api", RECEIVED),
        ("/1", "api", RECEIVED),
    ]
    assert [g.group for g in groups] == EXPECTED
    # Decoded and encoded again, the same text: nothing is lost or added on the way.
    assert envelope.encode(envelope.decode(payload), plain=False) == payload


def test_the_plain_form_gives_the_same_envelope() -> None:
    """The msgspec structs (no meta, so no patch) and the pydantic models encode alike."""
    body = json.loads(json.dumps(EVERYTHING))
    del body["data"]["attributes"]["events-bulk-create"]["data"][0]["attributes"]["profile"]["data"]["meta"]
    plain = structs.read_bulk(json.dumps(body).encode())
    parsed = BulkJobCreate.model_validate(body)
    fast = accept.accept_groups(plain.data.attributes.events_bulk_create.data, BULK, "client", RECEIVED)
    slow = accept.accept_groups(parsed.data.attributes.events_bulk_create.data, BULK, "client", RECEIVED)
    assert fast == slow
    unpatched = Group(msgspec.structs.replace(EXPECTED[0].profile, patch=None), EXPECTED[0].events)
    assert [g.group for g in _processed("client_bulk", fast)] == [unpatched, *EXPECTED[1:]]


def test_rows_written_before_the_structs_still_decode() -> None:
    """The old code wrote the same object with `json.dumps`/`msgspec` of dicts: times with
    `+00:00`, identifiers in another order, whole numbers for values, NaN from a body Python's
    parser read; and a dead letter retried then could lack fields."""
    old = {
        "source": "client",
        "received": RECEIVED.isoformat(),
        "groups": [
            {
                "profile": {
                    "id": None,
                    "identifiers": {"external_id": "x-1", "email": "ada@example.com", "_kx": "kx-1"},
                    "ignored": [],
                    "attributes": {"location": {"latitude": math.nan}},
                    "patch": None,
                },
                "events": [
                    {
                        "metric": "Placed Order",
                        "service": "api",
                        "properties": {"n": 2**70},
                        "time": "2026-11-30T08:00:00.250000+00:00",
                        "value": 10,
                        "value_currency": None,
                        "unique_id": "o-1",
                        "backfill": False,
                    }
                ],
            },
            {"profile": {"identifiers": {"email": "grace@example.com"}}, "events": [{"metric": "Viewed"}]},
        ],
    }
    payload = json.dumps(old, separators=(",", ":"))
    assert "NaN" in payload
    first, second = (g.group for g in _processed("client_event", payload))
    assert first.profile.identifiers == Identifiers(email="ada@example.com", external_id="x-1", kx="kx-1")
    assert math.isnan(first.profile.attributes["location"]["latitude"])
    (event,) = first.events
    assert event.time == dt.datetime(2026, 11, 30, 8, 0, 0, 250000, tzinfo=dt.UTC)
    assert (event.value, event.properties, event.unique_id) == (10.0, {"n": 2**70}, "o-1")
    assert second == Group(
        ProfileEntry(identifiers=Identifiers(email="grace@example.com")), [EventEntry("Viewed")]
    )


def test_nan_from_the_lenient_path_is_kept_as_it_came() -> None:
    """A body outside the plain form is read by `json.loads`, which takes NaN (a location's
    latitude, which no limit checks): its envelope writes it back as `json.dumps` does."""
    group = Group(ProfileEntry(attributes={"location": {"latitude": math.nan}}), [EventEntry("Viewed")])
    payload = envelope.encode(Envelope("api", RECEIVED, [group]), plain=False)
    assert '"latitude":NaN' in payload
    (decoded,) = envelope.decode(payload).groups
    assert math.isnan(decoded.profile.attributes["location"]["latitude"])
