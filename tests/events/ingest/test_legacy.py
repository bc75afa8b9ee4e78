"""Legacy Track and Identify, as old clients (and the `klaviyo` 3.x package) call them."""

from __future__ import annotations

import base64
import json
import time

import pytest
from sqlalchemy import select

from tests.conftest import AccountKeys
from tidings.events.ingest import accept, legacy
from tidings.events.ingest.envelope import Identifiers
from tidings.events.ingest.tables import EventInbox
from tidings.events.tables import Event
from tidings.jobs.worker import drain
from tidings.profiles.tables import Profile


def b64(payload: object) -> str:
    return base64.b64encode(json.dumps(payload).encode()).decode()


def profiles_of(db, account_id: str) -> list[Profile]:
    with db.read() as session:
        return list(session.execute(select(Profile).where(Profile.account_id == account_id)).scalars())


def test_identify_get_then_track_post(db, client, account: AccountKeys) -> None:
    identify = {
        "token": account.public_key,
        "properties": {
            "$email": "Old@Example.com",
            "$first_name": "Ada",
            "$city": "Paris",
            "$id": "ext-9",
            "Plan": "Gold",
            "$consent": ["email"],
        },
    }
    response = client.get("/api/identify", params={"data": b64(identify)})
    assert response.status_code == 200 and response.text == "1"
    when = int(time.time()) - 3600
    track = {
        "token": account.public_key,
        "event": "Started Checkout",
        "customer_properties": {"$email": "old@example.com", "$last_name": "Lovelace"},
        "properties": {"$event_id": "chk-1", "$value": 99.5, "Items": ["a"]},
        "time": when,
    }
    response = client.post("/api/track", data={"data": json.dumps(track)})
    assert response.status_code == 200 and response.text == "1"
    drain(db)
    (profile,) = profiles_of(db, account.id)
    assert (profile.email, profile.first_name, profile.last_name, profile.external_id) == (
        "old@example.com",
        "Ada",
        "Lovelace",
        "ext-9",
    )
    assert profile.location["city"] == "Paris"
    assert profile.properties == {"Plan": "Gold"}
    with db.read() as session:
        (event,) = session.execute(select(Event).where(Event.account_id == account.id)).scalars()
    assert (event.unique_id, event.value, int(event.time.timestamp())) == ("chk-1", 99.5, when)
    assert event.properties == {"Items": ["a"]}


@pytest.mark.parametrize(
    "data",
    [
        "not base64 !!",
        base64.b64encode(b"not json").decode(),
        b64([1, 2]),
        "",
        base64.b64encode(b'"x"').decode(),
    ],
)
def test_undecodable_data_answers_0(client, data: str) -> None:
    response = client.get("/api/track", params={"data": data})
    assert response.status_code == 200 and response.text == "0"


def test_pixel(client, account: AccountKeys) -> None:
    response = client.get(
        "/api/track", params={"data": b64({"token": account.public_key, "event": "Opened"}), "i": "1"}
    )
    assert response.headers["content-type"] == "image/gif" and response.content.startswith(b"GIF89a")


def test_unknown_token_is_acknowledged_and_dropped(db, client) -> None:
    response = client.get(
        "/api/track",
        params={"data": b64({"token": "nope00", "event": "X", "customer_properties": {"$email": "a@b.co"}})},
    )
    assert response.text == "1"


def test_base64_in_a_form_post_and_raw_json_bodies(db, client, account: AccountKeys) -> None:
    payload = {
        "token": account.public_key,
        "event": "Viewed",
        "customer_properties": {"$email": "f@example.com"},
    }
    assert client.post("/api/track", data={"data": b64(payload)}).text == "1"
    raw = client.post(
        "/api/track",
        content=json.dumps({**payload, "event": "Viewed again"}),
        headers={"content-type": "application/json"},
    )
    assert raw.text == "1"
    drain(db)
    with db.read() as session:
        names = session.execute(select(Event.unique_id).where(Event.account_id == account.id)).scalars().all()
    assert len(names) == 2


def test_track_without_identifiers_is_a_dead_letter(db, client, account: AccountKeys) -> None:
    assert (
        client.get("/api/track", params={"data": b64({"token": account.public_key, "event": "X"})}).text
        == "1"
    )
    drain(db)
    with db.read() as session:
        assert session.execute(select(EventInbox).where(EventInbox.account_id == account.id)).first() is None
    from tidings.events.ingest.tables import EventFailure

    with db.read() as session:
        (failure,) = session.execute(
            select(EventFailure).where(EventFailure.account_id == account.id)
        ).scalars()
    assert "no $email" in failure.error


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ('"properties": {"$value": "NaN"}', "finite"),
        ('"time": 100', "after 1990"),
        ('"time": 99999999999', "one year"),
        ('"time": 1e300', "Unix seconds"),
    ],
)
def test_track_outside_the_api_limits_is_a_dead_letter(
    db, http, account: AccountKeys, raw: str, error: str
) -> None:
    # The same limits as create_event: accepted, a NaN made the account's GET /api/events a 500.
    payload = {
        "token": account.public_key,
        "event": "Legacy Limits",
        "customer_properties": {"$email": "ada@example.com"},
    }
    key = raw.split('"')[1]
    payload.pop(key, None)
    body = json.dumps(payload)[:-1] + ", " + raw + "}"
    response = http.post("/api/track", content=body, headers={"Content-Type": "application/json"})
    assert response.text == "1"
    drain(db)
    from tidings.events.ingest.tables import EventFailure

    with db.read() as session:
        assert session.execute(select(Event).where(Event.account_id == account.id)).first() is None
        (failure,) = session.execute(
            select(EventFailure).where(EventFailure.account_id == account.id)
        ).scalars()
    assert error in failure.error
    assert http.get("/api/events", headers=account.headers()).status_code == 200


@pytest.mark.parametrize(
    "raw",
    [
        '"properties": {"Price": Infinity}',
        '"customer_properties": {"$email": "ada@example.com", "Score": NaN}',
    ],
)
def test_track_with_numbers_json_does_not_have_is_0(db, http, account: AccountKeys, raw: str) -> None:
    # NaN and Infinity are not JSON: the data does not decode, so Klaviyo's `0`, and nothing is kept.
    payload = {
        "token": account.public_key,
        "event": "Legacy Limits",
        "customer_properties": {"$email": "a@b.co"},
    }
    payload.pop(raw.split('"')[1], None)
    body = json.dumps(payload)[:-1] + ", " + raw + "}"
    assert http.post("/api/track", content=body, headers={"Content-Type": "application/json"}).text == "0"
    drain(db)
    with db.read() as session:
        assert session.execute(select(Event).where(Event.account_id == account.id)).first() is None
    assert http.get("/api/events", headers=account.headers()).status_code == 200


def test_plain_identifier_aliases_never_become_custom_properties() -> None:
    """The `klaviyo` 3.x client adds plain `email`/`id` beside the caller's `$email`/`$id`."""
    block = legacy.profile_block(
        {"email": "alias@example.com", "$email": "a@example.com", "$id": "x-1", "id": "x-2", "Plan": "Gold"}
    )
    assert block.identifiers == Identifiers(email="a@example.com", external_id="x-1")
    assert block.attributes == {"properties": {"Plan": "Gold"}}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_do_not_decode(constant: str) -> None:
    text = '{"token": "abcdef", "properties": {"x": NUMBER}}'.replace("NUMBER", constant)
    assert accept.decode_legacy(text) is None
    assert accept.decode_legacy(base64.b64encode(text.encode()).decode()) is None


def _failures(db, account_id: str) -> list[str]:
    from tidings.events.ingest.tables import EventFailure

    with db.read() as session:
        rows = session.execute(select(EventFailure.error).where(EventFailure.account_id == account_id))
        return list(rows.scalars())


def _nothing_kept(db, client, account: AccountKeys) -> None:
    drain(db)
    with db.read() as session:
        assert session.execute(select(Event).where(Event.account_id == account.id)).first() is None
    assert profiles_of(db, account.id) == [] and _failures(db, account.id) == []
    assert client.get("/api/events", headers=account.headers()).status_code == 200


def _nest(levels: int) -> object:
    value: object = 1
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("properties", {"Note": "a\ud800b"}),
        ("properties", {"bad\udc00": 1}),
        ("properties", {"n": "a\u0000b"}),
        ("properties", {"Items": [{"SKU": "\x00"}]}),
        ("customer_properties", {"$email": "ada@example.com", "$first_name": "\ud800"}),
        ("customer_properties", {"$email": "ada@example.com", "$city": "Pa\x00ris"}),
        ("event", "Viewed \ud800"),
        ("properties", {"p": _nest(101)}),
    ],
)
def test_track_that_cannot_be_stored_is_0(db, client, account: AccountKeys, where: str, value) -> None:
    # A lone surrogate or a NUL (in base64, past the body scan) was stored: every read of it a 500
    # on SQLite, an error on PostgreSQL. Like NaN, data no database can keep is answered 0.
    payload = {
        "token": account.public_key,
        "event": "Legacy Text",
        "customer_properties": {"$email": "ada@example.com"},
        where: value,
    }
    assert client.get("/api/track", params={"data": b64(payload)}).text == "0"
    assert client.post("/api/track", data={"data": b64(payload)}).text == "0"
    _nothing_kept(db, client, account)


def test_identify_that_cannot_be_stored_is_0(db, client, account: AccountKeys) -> None:
    payload = {"token": account.public_key, "properties": {"$email": "ada@example.com", "Plan": "\ud800"}}
    assert client.get("/api/identify", params={"data": b64(payload)}).text == "0"
    _nothing_kept(db, client, account)


def test_very_deep_track_is_0_not_500(db, http, account: AccountKeys) -> None:
    payload = {"token": account.public_key, "event": "Deep", "customer_properties": {"$email": "a@b.co"}}
    body = json.dumps(payload)[:-1] + ', "properties": {"p": ' + "[" * 5000 + "]" * 5000 + "}}"
    assert http.post("/api/track", content=body, headers={"Content-Type": "application/json"}).text == "0"


def test_the_deepest_track_accepted_is_stored(db, client, account: AccountKeys) -> None:
    payload = {
        "token": account.public_key,
        "event": "Deep",
        "customer_properties": {"$email": "a@b.co", "Tree": _nest(100)},
        "properties": {"p": _nest(100)},
    }
    assert client.get("/api/track", params={"data": b64(payload)}).text == "1"
    drain(db)
    with db.read() as session:
        (event,) = session.execute(select(Event).where(Event.account_id == account.id)).scalars()
    assert event.properties == {"p": _nest(100)}
    assert client.get(f"/api/events/{event.id}", headers=account.headers()).status_code == 200


@pytest.mark.parametrize(
    ("where", "value"),
    [("properties", ["a", "b"]), ("properties", "text"), ("properties", 5), ("customer_properties", ["x"])],
)
def test_properties_that_are_not_an_object_are_a_dead_letter(
    db, client, account: AccountKeys, where: str, value
) -> None:
    # `dict(["a", "b"])` raised in processing, failing the whole batch (then retried row by row).
    payload = {
        "token": account.public_key,
        "event": "Not An Object",
        "customer_properties": {"$email": "ada@example.com"},
        where: value,
    }
    assert client.get("/api/track", params={"data": b64(payload)}).text == "1"
    fine = {**payload, "event": "Fine", "properties": {}, "customer_properties": {"$email": "a@b.co"}}
    assert client.get("/api/track", params={"data": b64(fine)}).text == "1"
    drain(db)
    assert _failures(db, account.id) == [f"legacy_track: {where} must be an object"]
    with db.read() as session:
        (event,) = session.execute(select(Event).where(Event.account_id == account.id)).scalars()
    assert event.properties == {}


def test_a_list_of_properties_does_not_fail_its_batch() -> None:
    import datetime as dt

    with pytest.raises(legacy.LegacyError, match="properties must be an object"):
        legacy.track_group({"event": "X", "properties": ["a", "b"]}, dt.datetime.now(dt.UTC))
    with pytest.raises(legacy.LegacyError, match="properties must be an object"):
        legacy.track_group({"event": "X", "properties": "ab"}, dt.datetime.now(dt.UTC))
