"""get_profiles filters, sorts, sparse fieldsets and additional fields."""

from __future__ import annotations

from tests.profiles.factories import resolve
from tidings.consent import service as consent
from tidings.consent.policy import Channel
from tidings.profiles.identity import ProfileInput, Source


def _create(sdk, **attributes):  # type: ignore[no-untyped-def]
    return sdk.Profiles.create_profile({"data": {"type": "profile", "attributes": attributes}}).data.id


def test_filters_on_phone_kx_and_suppressions(sdk, db, account) -> None:
    a = _create(sdk, email="f1@example.com", phone_number="+16175550140")
    b = _create(sdk, email="f2@example.com")
    resolve(db, account.id, ProfileInput(email="f2@example.com", kx="kx-token-1"), source=Source.EVENT)
    with db.write() as session:
        consent.suppress(session, account.id, a)
        consent.unsubscribe(session, account.id, b, Channel.EMAIL, list_id="LIST1")

    def ids(flt: str) -> list[str]:
        return [p.id for p in sdk.Profiles.get_profiles(filter=flt).data]

    assert ids('equals(phone_number,"+1 617 555 0140")') == [a]
    assert ids('any(phone_number,["+16175550140","+16175550141"])') == [a]
    assert ids('equals(_kx,"kx-token-1")') == [b]
    assert ids('equals(subscriptions.email.marketing.suppression.reason,"USER_SUPPRESSED")') == [a]
    assert ids('equals(subscriptions.email.marketing.list_suppressions.list_id,"LIST1")') == [b]
    assert ids("greater-than(subscriptions.email.marketing.suppression.timestamp,2020-01-01T00:00:00Z)") == [
        a
    ]
    assert ids(f'any(id,["{a}","{b}"]),greater-than(created,2020-01-01T00:00:00Z)') == sorted([a, b])
    assert ids('equals(phone_number,"garbage")') == []


def test_sorts_and_pages_in_both_directions(sdk) -> None:
    created = [_create(sdk, email=f"sort{i}@example.com") for i in range(5)]
    flt = "any(email,[" + ",".join(f"'sort{i}@example.com'" for i in range(5)) + "])"
    seen: list[str] = []
    page = sdk.Profiles.get_profiles(filter=flt, sort="-email", page_size=2)
    while True:
        seen += [p.id for p in page.data]
        if not page.links.next:
            break
        page = sdk.Profiles.get_profiles(page_cursor=page.links.next)
    assert seen == list(reversed(created))
    by_created = [p.id for p in sdk.Profiles.get_profiles(filter=flt, sort="created", page_size=100).data]
    assert by_created == created


def test_sparse_fields_and_additional_fields(client, account, sdk) -> None:
    pid = _create(sdk, email="sparse@example.com", first_name="S", location={"city": "Paris"})
    response = client.get(
        f"/api/profiles/{pid}",
        params={
            "fields[profile]": "email,location.city",
            "additional-fields[profile]": "predictive_analytics",
        },
        headers=account.headers(),
    )
    assert response.status_code == 200
    assert response.json()["data"]["attributes"] == {
        "email": "sparse@example.com",
        "location": {"city": "Paris"},
    }
    full = sdk.Profiles.get_profile(pid, additional_fields_profile=["subscriptions", "predictive_analytics"])
    attributes = full.data.attributes
    assert attributes.subscriptions.email.marketing.consent == "NEVER_SUBSCRIBED"
    assert attributes.subscriptions.email.marketing.can_receive_email_marketing is True
    assert attributes.subscriptions.sms.marketing.can_receive_sms_marketing is False
    assert attributes.predictive_analytics.historic_clv == 0  # no orders
    assert attributes.predictive_analytics.average_order_value is None
    assert attributes.predictive_analytics.predicted_clv is None  # predictions need a model
    listed = sdk.Profiles.get_profiles(
        filter='equals(email,"sparse@example.com")', additional_fields_profile=["subscriptions"]
    )
    assert listed.data[0].attributes.subscriptions.email.marketing.consent == "NEVER_SUBSCRIBED"


def test_subscriptions_parse_in_the_sdk_with_every_field(sdk, db, account) -> None:
    pid = _create(sdk, email="subs@example.com", phone_number="+16175550141")
    with db.write() as session:
        consent.subscribe(
            session, account.id, pid, Channel.EMAIL, method=consent.Method("API", "x", "Home page")
        )
        consent.subscribe(session, account.id, pid, Channel.SMS)
        consent.unsubscribe(session, account.id, pid, Channel.EMAIL, list_id="L9")
        consent.suppress(session, account.id, pid)
    subs = sdk.Profiles.get_profile(
        pid, additional_fields_profile=["subscriptions"]
    ).data.attributes.subscriptions
    marketing = subs.email.marketing
    assert marketing.consent == "SUBSCRIBED" and marketing.can_receive_email_marketing is False
    assert marketing.custom_method_detail == "Home page"
    assert [s.reason for s in marketing.suppression] == ["USER_SUPPRESSED"]
    assert [s.list_id for s in marketing.list_suppressions] == ["L9"]
    assert subs.sms.marketing.consent == "SUBSCRIBED" and subs.sms.marketing.can_receive_sms_marketing is True


def test_a_failed_request_changes_nothing(sdk, client, account) -> None:
    # 300 properties, then 150 more: the merged result breaks the 400 limit only after resolution
    # has applied first_name, so only a rolled-back unit of work leaves "Before" in place.
    pid = _create(
        sdk, email="atomic@example.com", first_name="Before", properties={f"a{i}": i for i in range(300)}
    )
    body = {
        "data": {
            "type": "profile",
            "id": pid,
            "attributes": {"first_name": "After", "properties": {f"b{i}": i for i in range(150)}},
        }
    }
    response = client.patch(f"/api/profiles/{pid}", json=body, headers=account.headers())
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"]["pointer"] == "/data/attributes/properties"
    profile = sdk.Profiles.get_profile(pid).data.attributes
    assert profile.first_name == "Before" and len(profile.properties) == 300


def test_historic_predictive_values_come_from_placed_orders(sdk, db, account) -> None:
    import datetime as dt

    from tests.events.factories import make_events

    pid = _create(sdk, email="buyer@example.com")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    make_events(
        db,
        account.id,
        [
            {"profile_id": pid, "time": start, "value": 30.0, "unique_id": "o1"},
            {"profile_id": pid, "time": start + dt.timedelta(days=10), "value": 50.0, "unique_id": "o2"},
            {"profile_id": pid, "time": start + dt.timedelta(days=30), "value": 40.0, "unique_id": "o3"},
            {"profile_id": pid, "metric": "Viewed Product", "time": start, "value": 999.0},
        ],
    )
    found = sdk.Profiles.get_profile(pid, additional_fields_profile=["predictive_analytics"])
    values = found.data.attributes.predictive_analytics
    assert values.historic_number_of_orders == 3
    assert values.historic_clv == 120.0
    assert values.average_order_value == 40.0
    assert values.average_days_between_orders == 15.0
    listed = sdk.Profiles.get_profiles(
        filter='equals(email,"buyer@example.com")', additional_fields_profile=["predictive_analytics"]
    )
    assert listed.data[0].attributes.predictive_analytics.historic_clv == 120.0
