"""The plain-form decoder (msgspec structs) and the pydantic models give the same answer.

A body the structs take must be one the models take, producing the same inbox envelope or the
same errors; a body they do not take (`NotPlain`) goes to the models, so it needs no comparison.
Hypothesis builds documents around the spec's shapes with the variations clients send and
the mistakes they make.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tidings.events.ingest.intakes import (
    BULK_CREATE_CLIENT_EVENTS,
    BULK_CREATE_EVENTS,
    CREATE_EVENT,
    Intake,
    accept_create_event,
)
from tidings.events.ingest.structs import NotPlain, read_event
from tidings.jsonapi.errors import APIError, ErrorList

RECEIVED = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
MISSING = object()

texts = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
json_scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | texts
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
odd = json_values | st.just(MISSING)
times = st.one_of(
    st.datetimes(
        min_value=dt.datetime(1985, 1, 1), max_value=dt.datetime(2028, 1, 1), timezones=st.just(dt.UTC)
    ).map(lambda d: d.isoformat()),
    st.tuples(
        st.datetimes(min_value=dt.datetime(1985, 1, 1), max_value=dt.datetime(2028, 1, 1)),
        st.sampled_from("T "),
    ).map(lambda pair: pair[0].isoformat(sep=pair[1])),
    st.sampled_from(
        [
            "2025-06-01T10:00:00Z",
            "2025-06-01T10:00:00.1234567Z",
            "2025-06-01T10:00:00.9999999+02:00",
            "2025-06-01 10:00:00+05:30",
            "2025-06-01",
            "2025-06-01T10:00Z",
            "2025-02-30T10:00:00Z",
            "2025-06-01T24:00:00Z",
            "1700000000",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "2025-06-01t10:00:00z",
        ]
    ),
    st.integers(0, 2_000_000_000),
    st.just(None),
)


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`good` nineteen times in twenty: a document has many fields, and most should be plain."""
    return st.sampled_from([True] * 19 + [False]).flatmap(lambda plain: good if plain else bad)


locations = st.fixed_dictionaries(
    {},
    optional={
        "city": mostly(texts | st.none(), st.integers()),
        "latitude": mostly(st.sampled_from(["40.7", 40, 40.5, None]), st.sampled_from([True, [1]])),
        "zip": mostly(texts, st.integers()),
    },
).flatmap(lambda d: mostly(st.just(d), st.just({**d, "street": "Main St"})))
profile_attributes = st.fixed_dictionaries(
    {},
    optional={
        "email": mostly(
            st.sampled_from(["a@example.com", "B@Example.COM ", None]), st.sampled_from(["bad", ""])
        ),
        "phone_number": mostly(st.sampled_from(["+16175551234", None]), st.just("12")),
        "external_id": mostly(st.sampled_from(["x1", None]), st.sampled_from([" ", 5])),
        "_kx": st.sampled_from(["kx1", None]),
        "anonymous_id": st.sampled_from(["anon", None]),
        "first_name": mostly(texts | st.none(), st.integers()),
        "location": mostly(st.none() | locations, st.just("Boston")),
        "properties": mostly(st.none() | st.dictionaries(texts, json_values, max_size=3), st.integers()),
    },
).flatmap(
    lambda d: mostly(
        st.just(d),
        st.sampled_from([{**d, "kx": "kx2"}, {**d, "meta": {"patch_properties": {"append": {"tags": "a"}}}}]),
    )
)


def _drop_missing(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v is not MISSING}


@st.composite
def profile_blocks(draw: st.DrawFn) -> dict[str, Any]:
    data = _drop_missing(
        {
            "type": draw(mostly(st.just("profile"), st.just("person"))),
            "id": draw(mostly(st.just(MISSING), st.sampled_from([None, "01J0000000000000000000000"]))),
            "attributes": draw(profile_attributes),
            "meta": draw(
                mostly(st.just(MISSING), st.sampled_from([None, {"patch_properties": {"unset": "x"}}]))
            ),
        }
    )
    return {"data": data}


@st.composite
def event_attributes(draw: st.DrawFn, *, with_profile: bool) -> dict[str, Any]:
    attrs = {
        "properties": draw(
            mostly(
                st.dictionaries(texts, json_values, max_size=4),
                st.sampled_from(
                    [MISSING, None, [1], {"x" * 30_000: "y" * 30_000}, {str(i): i for i in range(401)}]
                ),
            )
        ),
        "metric": {
            "data": {
                "type": draw(mostly(st.just("metric"), st.just("event"))),
                "attributes": _drop_missing(
                    {
                        "name": draw(
                            mostly(
                                st.sampled_from(["Placed Order", " Viewed "]) | texts,
                                st.sampled_from(["", "m" * 128, 5]),
                            )
                        ),
                        "service": draw(
                            mostly(st.sampled_from([MISSING, None, " Shopify "]), st.just("s" * 65))
                        ),
                    }
                ),
            }
        },
        "time": draw(mostly(times | st.just(MISSING), st.just(True))),
        "value": draw(
            mostly(
                st.sampled_from([MISSING, None, 9.99, 10, -0.0]) | st.floats(allow_nan=False),
                st.sampled_from(["12.5", True, 2**70]),
            )
        ),
        "value_currency": draw(mostly(st.sampled_from([MISSING, None, "usd", ""]), st.just("EURO"))),
        "unique_id": draw(mostly(st.sampled_from([MISSING, None, "", "u-1"]) | texts, st.just("u" * 256))),
        "backfill": draw(mostly(st.sampled_from([MISSING, None, True, False]), st.sampled_from(["true", 1]))),
        "extra": draw(mostly(st.just(MISSING), odd)),
    }
    if with_profile:
        attrs["profile"] = draw(profile_blocks())
    return _drop_missing(attrs)


@st.composite
def bulk_documents(draw: st.DrawFn) -> dict[str, Any]:
    groups = []
    for _ in range(draw(mostly(st.integers(1, 3), st.just(0)))):
        events = [
            {"type": draw(mostly(st.just("event"), st.just("events"))), "attributes": attrs}
            for attrs in draw(st.lists(event_attributes(with_profile=False), min_size=1, max_size=3))
        ]
        groups.append(
            {
                "type": draw(mostly(st.just("event-bulk-create"), st.just("bulk"))),
                "attributes": _drop_missing(
                    {
                        "profile": draw(profile_blocks()),
                        "events": {"data": events},
                        "backfill": draw(
                            mostly(st.sampled_from([MISSING, None, True, False]), st.just("yes"))
                        ),
                    }
                ),
            }
        )
    key = draw(mostly(st.just("events-bulk-create"), st.just("events_bulk_create")))
    return {"data": {"type": "event-bulk-create-job", "attributes": {key: {"data": groups}}}}


def _slow(intake: Intake[Any, Any], body: bytes) -> Any:
    try:
        document = intake.model.model_validate(json.loads(body))
    except ValidationError:
        return "invalid"
    return _outcome(lambda: intake.accept(document))


def _fast(intake: Intake[Any, Any], body: bytes) -> Any:
    return _outcome(lambda: intake.accept(intake.read(body)))


def _outcome(run: Any) -> Any:
    try:
        envelope = json.loads(run())
    except APIError as error:
        return [(error.detail, error.pointer)]
    except ErrorList as errors:
        return [(e.detail, e.pointer) for e in errors.errors]
    envelope.pop("received")
    return envelope


def _same(intake: Intake[Any, Any], document: dict[str, Any]) -> None:
    body = json.dumps(document).encode()
    try:
        fast = _fast(intake, body)
    except NotPlain:
        return  # the models judge it; nothing to compare
    assert fast == _slow(intake, body)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(bulk_documents())
def test_bulk_bodies_get_the_same_answer(document: dict[str, Any]) -> None:
    _same(BULK_CREATE_EVENTS, document)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(event_attributes(with_profile=True))
def test_single_events_get_the_same_answer(attributes: dict[str, Any]) -> None:
    _same(CREATE_EVENT, {"data": {"type": "event", "attributes": attributes}})


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(event_attributes(with_profile=False), min_size=1, max_size=3), profile_blocks())
def test_client_bulk_bodies_get_the_same_answer(
    events: list[dict[str, Any]], profile: dict[str, Any]
) -> None:
    document = {
        "data": {
            "type": "event-bulk-create",
            "attributes": {
                "profile": profile,
                "events": {"data": [{"type": "event", "attributes": e} for e in events]},
            },
        }
    }
    _same(BULK_CREATE_CLIENT_EVENTS, document)


def test_a_plain_body_takes_the_fast_path() -> None:
    """The common shape is decoded by the structs (else the comparisons above prove nothing)."""
    body = {
        "data": {
            "type": "event",
            "attributes": {
                "properties": {"Total": 10, "Items": ["a"]},
                "time": "2025-06-01T10:00:00Z",
                "value": 10,
                "unique_id": "o-1",
                "metric": {"data": {"type": "metric", "attributes": {"name": "Placed Order"}}},
                "profile": {"data": {"type": "profile", "attributes": {"email": "a@example.com"}}},
            },
        }
    }
    envelope = json.loads(accept_create_event(read_event(json.dumps(body).encode())))
    assert envelope["groups"][0]["events"][0]["value"] == 10.0
    assert envelope["groups"][0]["profile"]["identifiers"] == {"email": "a@example.com"}
