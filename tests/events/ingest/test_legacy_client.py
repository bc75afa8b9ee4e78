"""Legacy Track and Identify through the real legacy client: the `klaviyo` 3.x package, unmodified.

What it sends (klaviyo 3.1.7, `klaviyo/public.py` and `api_helper.py`):
- `Public.track(event, email=, external_id=, properties=, customer_properties=, timestamp=,
  ip_address=, is_test=, method="get")`: `{"token", "event", "properties", "customer_properties",
  "time"}` (+ `"ip"`); `email`/`external_id` are added to customer_properties as plain `email`
  and `id` keys; `time` is null when no timestamp is given, and a float (`time.mktime`) for a
  datetime. `track_once` adds `properties["__track_once__"] = True` and always uses GET.
- `Public.identify(email=, external_id=, properties=, is_test=, method="get")`: `{"token",
  "properties"}`, with the same plain `email`/`id` keys added.
- GET `/api/{track,identify}?data=<standard base64 of the JSON>&test=0|1`; POST form body
  `data=<percent-encoded JSON>` with `Accept: text/html`. It raises for any status but 200/202
  and reads the body with `response.json()`, so Tidings' `1`/`0` arrive as the ints 1 and 0.

Pointing it at Tidings: GET uses the instance's `api_server` (a constructor default fixed at
import), POST the class constant `KlaviyoAPI.KLAVIYO_API_SERVER`; the fixture patches both.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import klaviyo
import pytest
from klaviyo.api_helper import KlaviyoAPI
from klaviyo.exceptions import KlaviyoAPIException, KlaviyoException
from sqlalchemy import select

from tests.conftest import AccountKeys, LiveServer
from tidings.db.session import Database
from tidings.events.ingest.tables import EventFailure, EventInbox
from tidings.jobs.worker import drain


@pytest.fixture
def legacy(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Any]:
    """`klaviyo.Klaviyo(public_token=...)` for a token, talking to the live server."""
    base = f"{server.url}/api"
    monkeypatch.setattr(KlaviyoAPI, "KLAVIYO_API_SERVER", base)  # POST
    monkeypatch.setattr(KlaviyoAPI.__init__, "__defaults__", (None, None, base))  # GET
    return lambda token: klaviyo.Klaviyo(public_token=token).Public


def profile_by_email(sdk: Any, email: str) -> Any:
    (profile,) = sdk.Profiles.get_profiles(filter=f'equals(email,"{email}")').data
    return profile


def events_of(sdk: Any, profile_id: str) -> list[Any]:
    events = sdk.Events.get_events(filter=f'equals(profile_id,"{profile_id}")', sort="datetime").data
    return list(events)


def metric_name(sdk: Any, event: Any) -> str:
    return str(sdk.Events.get_metric_for_event(event.id).data.attributes.name)


def failures(db: Database, account_id: str) -> list[str]:
    with db.read() as session:
        rows = session.execute(select(EventFailure).where(EventFailure.account_id == account_id)).scalars()
        return [row.error for row in rows]


def test_track_get_and_post(db, sdk, legacy, account: AccountKeys) -> None:
    public = legacy(account.public_key)
    when = int(time.time()) - 86400
    answer = public.track(
        "Ordered Product",
        email="Buyer@Example.com",
        properties={"$event_id": "order-1_SKU", "$value": 100, "item_name": "Boots", "Sizes": [40, 41]},
        customer_properties={"$first_name": "Abe", "$city": "Springfield", "Plan": "Trial"},
        timestamp=when,
        ip_address="1.2.3.4",
    )
    assert (answer.status_code, answer.data) == (200, 1)
    # POST, with a (naive, local) datetime the client turns into float seconds
    later = dt.datetime.fromtimestamp(when + 60)
    answer = public.track(
        "Started Checkout",
        email="buyer@example.com",
        properties={"$value": 12.5, "Note": "a b/c+d&e=f é"},
        customer_properties={"$last_name": "Lincoln"},
        timestamp=later,
        method="post",
    )
    assert (answer.status_code, answer.data) == (200, 1)
    drain(db)

    profile = profile_by_email(sdk, "buyer@example.com")
    assert (profile.attributes.first_name, profile.attributes.last_name) == ("Abe", "Lincoln")
    assert profile.attributes.location.city == "Springfield"
    assert profile.attributes.properties == {"Plan": "Trial"}
    ordered, checkout = events_of(sdk, profile.id)
    assert metric_name(sdk, ordered) == "Ordered Product"
    assert ordered.attributes.timestamp == when
    assert ordered.attributes.event_properties == {
        "item_name": "Boots",
        "Sizes": [40, 41],
        "$event_id": "order-1_SKU",
        "$value": 100,
    }
    assert metric_name(sdk, checkout) == "Started Checkout"
    assert checkout.attributes.timestamp == when + 60
    assert checkout.attributes.event_properties["Note"] == "a b/c+d&e=f é"
    assert checkout.attributes.event_properties["$value"] == 12.5


def test_track_without_a_time_is_now(db, sdk, legacy, account: AccountKeys) -> None:
    before = int(time.time())
    assert legacy(account.public_key).track("Viewed Page", external_id="user-7").data == 1  # "time": null
    drain(db)
    (profile,) = sdk.Profiles.get_profiles(filter='equals(external_id,"user-7")').data
    (event,) = events_of(sdk, profile.id)
    assert before <= event.attributes.timestamp <= int(time.time())
    assert event.attributes.event_properties == {"$event_id": str(event.attributes.timestamp)}


def test_track_once_records_the_first_event_per_metric(db, sdk, legacy, account: AccountKeys) -> None:
    public = legacy(account.public_key)
    now = int(time.time())
    for offset in (0, 10, 20):
        assert public.track_once("Signed Up", email="once@example.com", timestamp=now - offset).data == 1
    assert public.track_once("Activated", email="once@example.com", timestamp=now).data == 1
    drain(db)
    events = events_of(sdk, profile_by_email(sdk, "once@example.com").id)
    assert sorted(metric_name(sdk, e) for e in events) == ["Activated", "Signed Up"]
    signed_up = next(e for e in events if metric_name(sdk, e) == "Signed Up")
    assert signed_up.attributes.timestamp == now  # the first call wins
    assert "__track_once__" not in signed_up.attributes.event_properties


@pytest.mark.parametrize("method", ["get", "post"])
def test_identify(db, sdk, legacy, account: AccountKeys, method: str) -> None:
    email = f"ada.{method}@example.com"
    answer = legacy(account.public_key).identify(
        email=email,
        external_id=f"ext-{method}",
        properties={
            "$email": email,
            "$first_name": "Ada",
            "$last_name": "Lovelace",
            "$phone_number": "+13239169023",
            "$organization": "Analytical Engines",
            "$title": "Countess",
            "$image": "https://example.com/ada.png",
            "$city": "London",
            "$region": "Greater London",
            "$country": "UK",
            "$zip": "W1",
            "$timezone": "Europe/London",
            "$consent": ["email"],
            "Plan": "Gold",
            "Logins": 3,
        },
        method=method,
    )
    assert (answer.status_code, answer.data) == (200, 1)
    drain(db)
    attributes = profile_by_email(sdk, email).attributes
    assert (attributes.external_id, attributes.phone_number) == (f"ext-{method}", "+13239169023")
    assert (attributes.first_name, attributes.last_name) == ("Ada", "Lovelace")
    assert (attributes.organization, attributes.title, attributes.image) == (
        "Analytical Engines",
        "Countess",
        "https://example.com/ada.png",
    )
    location = attributes.location
    assert (location.city, location.region, location.country, location.zip, location.timezone) == (
        "London",
        "Greater London",
        "UK",
        "W1",
        "Europe/London",
    )
    # neither `$` keys nor the client's plain `email`/`id` identifier keys become custom properties
    assert attributes.properties == {"Plan": "Gold", "Logins": 3}


def test_identify_then_track_is_one_profile(db, sdk, legacy, account: AccountKeys) -> None:
    public = legacy(account.public_key)
    assert public.identify(external_id="crm-1", properties={"$email": "one@example.com"}).data == 1
    assert (
        public.track("Paid", external_id="crm-1", properties={"$value": 5}, timestamp=1_700_000_000).data == 1
    )
    drain(db)
    profile = profile_by_email(sdk, "one@example.com")
    assert profile.attributes.external_id == "crm-1"
    (event,) = events_of(sdk, profile.id)
    assert event.attributes.event_properties["$value"] == 5


# ------------------------------------------------------------------------------ bad input


def test_missing_identifiers_are_refused_by_the_client_itself(legacy, account: AccountKeys) -> None:
    with pytest.raises(KlaviyoException, match="email or ID"):
        legacy(account.public_key).track("X", properties={"a": 1})
    with pytest.raises(KlaviyoException, match="email or ID"):
        legacy(account.public_key).identify(properties={"$first_name": "Nobody"})


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinity_are_not_json_and_answer_0(db, legacy, account: AccountKeys, method, number) -> None:
    """`json.dumps` writes NaN/Infinity, which no JSON parser (nor PostgreSQL) accepts."""
    answer = legacy(account.public_key).track(
        "Measured", email="nan@example.com", properties={"reading": number}, method=method
    )
    assert (answer.status_code, answer.data) == (200, 0)
    with db.read() as session:
        assert session.execute(select(EventInbox).where(EventInbox.account_id == account.id)).first() is None


def test_unknown_token_answers_1_and_records_nothing(db, sdk, legacy, account: AccountKeys) -> None:
    assert legacy("nope00").track("Stray", email="stray@example.com").data == 1
    assert legacy("nope00").identify(email="stray@example.com", properties={}).data == 1
    drain(db)
    assert sdk.Profiles.get_profiles(filter='equals(email,"stray@example.com")').data == []


def test_unmappable_payloads_answer_1_and_become_dead_letters(db, sdk, legacy, account: AccountKeys) -> None:
    public = legacy(account.public_key)
    assert public.track("Bad value", email="bad@example.com", properties={"$value": "lots"}).data == 1
    assert public.track("Bad time", email="bad@example.com", timestamp="yesterday").data == 1
    assert public.identify(email="not-an-email", properties={}).data == 1
    drain(db)
    assert sdk.Profiles.get_profiles(filter='equals(email,"bad@example.com")').data == []
    errors = failures(db, account.id)
    assert len(errors) == 3
    assert any("$value must be a number" in e for e in errors)
    assert any("time must be Unix seconds" in e for e in errors)


@pytest.mark.parametrize(
    "call",
    [
        lambda k: k.Lists.get_lists(),
        lambda k: k.Metrics.get_metrics(),
        lambda k: k.Profiles.get_profile("01ABC"),
        lambda k: k.Campaigns.get_campaigns(),
        lambda k: k.DataPrivacy.request_profile_deletion("a@example.com"),
    ],
)
def test_private_v1_v2_endpoints_are_not_served(legacy, account: AccountKeys, call) -> None:
    """Klaviyo retired them; the client gets a 404 with a JSON:API error, never a 500."""
    client = klaviyo.Klaviyo(private_token=account.private_key)
    with pytest.raises(KlaviyoAPIException) as raised:
        call(client)
    assert raised.value.status_code == 404
    assert raised.value.message["errors"][0]["code"] == "not_found"
