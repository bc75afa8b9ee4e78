"""What ingestion refuses so that whatever it accepts can be stored and read back: text no database
stores, nesting too deep to read back, property keys past the string limit, values of the wrong
type, blank metric names. Every path answers alike: /api and /client, single and bulk."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from tests.conftest import AccountKeys
from tests.events.ingest.test_api import bulk_document, bulk_event, bulk_group, event_body, events_of
from tidings.events.ingest.tables import EventInbox
from tidings.events.tables import Metric
from tidings.jobs.worker import drain

BASE = "/data/attributes"
PROFILE = f"{BASE}/profile/data/attributes"
GROUP = "/data/attributes/events-bulk-create/data/0/attributes"
MAX_DEPTH = 100  # levels of objects and arrays inside properties (docs/COMPATIBILITY.md)


def post(client, account: AccountKeys, path: str, body: object):  # type: ignore[no-untyped-def]
    """POST `body` as JSON text (lone surrogates written as `\\udXXX` escapes, as `json.dumps` does)."""
    if path.startswith("/client"):
        path, headers = f"{path}?company_id={account.public_key}", {"revision": "2026-07-15"}
    else:
        headers = account.headers()
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(path, content=raw, headers={**headers, "Content-Type": "application/vnd.api+json"})


def pointers(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.text
    assert {e["code"] for e in response.json()["errors"]} == {"invalid"}
    return [e["source"].get("pointer") for e in response.json()["errors"]]


def inbox_count(db, account_id: str) -> int:
    with db.read() as session:
        count = select(func.count()).select_from(EventInbox).where(EventInbox.account_id == account_id)
        return int(session.execute(count).scalar_one())


def nest(levels: int) -> object:
    """A value `levels` arrays deep."""
    value: object = "leaf"
    for _ in range(levels):
        value = [value]
    return value


LONE = "\ud800"

SURROGATES = [
    (event_body(properties={"Note": f"a{LONE}b"}), f"{BASE}/properties/Note"),
    (event_body(properties={f"bad{LONE}": 1}), f"{BASE}/properties/bad\\ud800"),
    (event_body(properties={"Items": [{"SKU": "\udc00"}]}), f"{BASE}/properties/Items/0/SKU"),
    (event_body(profile={"first_name": LONE}), f"{PROFILE}/first_name"),
    (event_body(profile={"location": {"city": LONE}}), f"{PROFILE}/location/city"),
    (event_body(profile={"properties": {"Plan": LONE}}), f"{PROFILE}/properties/Plan"),
    (event_body(profile={"external_id": LONE}), f"{PROFILE}/external_id"),
    (event_body(metric=f"Viewed {LONE}"), f"{BASE}/metric/data/attributes/name"),
    (event_body(unique_id=LONE), f"{BASE}/unique_id"),
]


@pytest.mark.parametrize("path", ["/api/events", "/client/events"])
@pytest.mark.parametrize(("body", "pointer"), SURROGATES)
def test_lone_surrogates_are_400_with_their_pointer(
    db, client, account: AccountKeys, path: str, body: dict, pointer: str
) -> None:
    # Python's JSON parser reads `"\ud800"`; stored, it made every read of the event a 500.
    assert pointers(post(client, account, path, body)) == [pointer]
    assert inbox_count(db, account.id) == 0


def test_lone_surrogates_in_bulk_are_400_with_their_index(db, client, account: AccountKeys) -> None:
    body = bulk_document(
        bulk_group("a@b.co", bulk_event(), bulk_event(properties={"x": [LONE]})),
        bulk_group("c@d.co", bulk_event(unique_id=LONE)),
    )
    base = "/data/attributes/events-bulk-create/data"
    assert sorted(pointers(post(client, account, "/api/event-bulk-create-jobs", body))) == [
        f"{base}/0/attributes/events/data/1/attributes/properties/x/0",
        f"{base}/1/attributes/events/data/0/attributes/unique_id",
    ]
    client_body = {"data": body["data"]["attributes"]["events-bulk-create"]["data"][0]}
    assert pointers(post(client, account, "/client/event-bulk-create", client_body)) == [
        "/data/attributes/events/data/1/attributes/properties/x/0"
    ]
    assert inbox_count(db, account.id) == 0


def test_surrogate_pairs_are_text_like_any_other(db, client, account: AccountKeys) -> None:
    body = event_body(properties={"Emoji": "\ud83d\ude00", "\ud83d\ude00": "key"})
    assert post(client, account, "/api/events", body).status_code == 202
    drain(db)
    assert events_of(db, account.id)[0].properties == {"Emoji": "😀", "😀": "key"}
    assert client.get("/api/events", headers=account.headers()).status_code == 200


@pytest.mark.parametrize("path", ["/api/events", "/client/events"])
def test_nesting_past_the_limit_is_400_at_the_level_that_passes_it(
    db, client, account: AccountKeys, path: str
) -> None:
    body = event_body(properties={"p": nest(MAX_DEPTH + 1)})
    assert pointers(post(client, account, path, body)) == [f"{BASE}/properties/p" + "/0" * MAX_DEPTH]
    body = event_body(profile={"properties": {"p": nest(MAX_DEPTH + 1)}})
    assert pointers(post(client, account, path, body)) == [f"{PROFILE}/properties/p" + "/0" * MAX_DEPTH]
    assert inbox_count(db, account.id) == 0


@pytest.mark.parametrize("levels", [400, 975, 5000])
def test_very_deep_bodies_are_400_not_500(db, client, account: AccountKeys, levels: int) -> None:
    deep = "[" * levels + "]" * levels  # past what Python's own JSON encoder writes
    bulk = bulk_document(bulk_group("a@b.co", bulk_event(properties={"p": "X"})))
    for path, body in [
        ("/api/events", event_body(properties={"p": "X"})),
        ("/client/events", event_body(properties={"p": "X"})),
        ("/api/event-bulk-create-jobs", bulk),
    ]:
        raw = json.dumps(body).replace('"X"', deep).encode()
        response = post(client, account, path, raw)
        assert len(pointers(response)) == 1
    assert inbox_count(db, account.id) == 0


def test_the_deepest_accepted_properties_are_stored_and_read_back(db, client, account: AccountKeys) -> None:
    body = event_body(properties={"p": nest(MAX_DEPTH)}, profile={"properties": {"q": nest(MAX_DEPTH)}})
    assert post(client, account, "/api/events", body).status_code == 202
    drain(db)
    (event,) = events_of(db, account.id)
    read = client.get(f"/api/events/{event.id}", headers=account.headers())
    assert read.status_code == 200
    assert read.json()["data"]["attributes"]["event_properties"]["p"] == nest(MAX_DEPTH)
    profile = client.get(f"/api/profiles/{event.profile_id}", headers=account.headers())
    assert profile.status_code == 200
    assert profile.json()["data"]["attributes"]["properties"]["q"] == nest(MAX_DEPTH)


@pytest.mark.parametrize("path", ["/api/events", "/client/events"])
def test_property_keys_have_the_string_limit(db, client, account: AccountKeys, path: str) -> None:
    key = "k" * 110_000
    body = event_body(properties={key: 1, "fine": "x"})
    assert pointers(post(client, account, path, body)) == [f"{BASE}/properties/{key}"]
    body = event_body(profile={"properties": {key: 1}})
    assert pointers(post(client, account, path, body)) == [f"{PROFILE}/properties/{key}"]
    assert inbox_count(db, account.id) == 0


WRONG_TYPES = [
    ({"value": "9.99"}, "value"),
    ({"value": True}, "value"),
    ({"backfill": "yes"}, "backfill"),
    ({"backfill": 1}, "backfill"),
    ({"time": 1710072000000}, "time"),  # milliseconds: out of range as seconds
    ({"time": "1710072000"}, "time"),  # a number as text is not a date-time
    ({"time": True}, "time"),
]


@pytest.mark.parametrize("path", ["/api/events", "/client/events"])
@pytest.mark.parametrize(("attrs", "field"), WRONG_TYPES)
def test_values_of_the_wrong_type_are_400(
    db, client, account: AccountKeys, path: str, attrs: dict, field: str
) -> None:
    assert pointers(post(client, account, path, event_body(**attrs))) == [f"{BASE}/{field}"]
    assert inbox_count(db, account.id) == 0


@pytest.mark.parametrize(("attrs", "field"), WRONG_TYPES)
def test_bulk_values_of_the_wrong_type_are_400(client, account: AccountKeys, attrs: dict, field: str) -> None:
    body = bulk_document(bulk_group("a@b.co", bulk_event(), bulk_event(**attrs)))
    expected = f"{GROUP}/events/data/1/attributes/{field}"
    assert pointers(post(client, account, "/api/event-bulk-create-jobs", body)) == [expected]


@pytest.mark.parametrize("backfill", ["yes", 1])
def test_a_group_backfill_must_be_a_boolean(client, account: AccountKeys, backfill: object) -> None:
    body = bulk_document(bulk_group("a@b.co", bulk_event()))
    body["data"]["attributes"]["events-bulk-create"]["data"][0]["attributes"]["backfill"] = backfill
    assert pointers(post(client, account, "/api/event-bulk-create-jobs", body)) == [f"{GROUP}/backfill"]


def test_numbers_of_unix_seconds_are_still_a_time(db, client, account: AccountKeys) -> None:
    assert post(client, account, "/api/events", event_body(time=1710072000, value=3)).status_code == 202
    drain(db)
    (event,) = events_of(db, account.id)
    assert int(event.time.timestamp()) == 1710072000 and event.value == 3.0


@pytest.mark.parametrize("path", ["/api/events", "/client/events"])
def test_a_blank_metric_name_is_400(db, client, account: AccountKeys, path: str) -> None:
    assert pointers(post(client, account, path, event_body(metric="   "))) == [
        f"{BASE}/metric/data/attributes/name"
    ]
    body = bulk_document(bulk_group("a@b.co", bulk_event(metric={"data": _metric(" \t")})))
    assert pointers(post(client, account, "/api/event-bulk-create-jobs", body)) == [
        f"{GROUP}/events/data/0/attributes/metric/data/attributes/name"
    ]
    assert inbox_count(db, account.id) == 0


def _metric(name: str) -> dict:
    return {"type": "metric", "attributes": {"name": name}}


def test_metric_names_are_stripped_on_every_path(db, client, account: AccountKeys) -> None:
    assert post(client, account, "/api/events", event_body(metric="  Padded X  ")).status_code == 202
    assert (
        post(client, account, "/client/events", event_body(metric="Padded X", unique_id="2")).status_code
        == 202
    )
    legacy = {
        "token": account.public_key,
        "event": " Padded X ",
        "customer_properties": {"$email": "ada@example.com"},
        "properties": {"$event_id": "3"},
    }
    assert client.post("/api/track", data={"data": json.dumps(legacy)}).text == "1"
    drain(db)
    with db.read() as session:
        names = session.execute(select(Metric.name).where(Metric.account_id == account.id)).scalars().all()
    assert names == ["Padded X"]
    assert len(events_of(db, account.id)) == 3


def test_an_escaped_backslash_before_u0000_is_text_not_nul(db, client, account: AccountKeys) -> None:
    # The JSON text "C:\\u0000dir" is the ten characters C:\u0000dir: no NUL in it.
    raw = json.dumps(event_body(properties={"Path": "X"})).replace('"X"', '"C:\\\\u0000dir"').encode()
    headers = {**account.headers(), "Content-Type": "application/vnd.api+json"}
    assert client.post("/api/events", content=raw, headers=headers).status_code == 202
    drain(db)
    assert events_of(db, account.id)[0].properties == {"Path": "C:\\u0000dir"}
    nul = raw.replace(b"C:\\\\u0000dir", b"C:\\\\\\u0000dir")  # an escaped backslash, then a NUL
    response = client.post("/api/events", content=nul, headers=headers)
    assert response.status_code == 400 and "NUL" in response.json()["errors"][0]["detail"]
