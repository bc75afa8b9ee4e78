"""query_campaign_values through the official SDK: the statistics of one campaign's sends."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from openapi_client.exceptions import BadRequestException

from tests.conftest import AccountKeys
from tests.profiles.factories import make_profile
from tests.reporting.conftest import ALL_STATISTICS, make_campaign
from tests.reporting.ledger import T0, Happened, Send, add_events, add_sends, metric_id
from tidings.db.session import Database

TIMEFRAME = {"start": "2025-12-25T00:00:00+00:00", "end": "2026-01-20T00:00:00+00:00"}
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def _body(statistics: list[str], conversion_metric_id: str, **more: Any) -> dict[str, Any]:
    attributes = {
        "statistics": statistics,
        "timeframe": TIMEFRAME,
        "conversion_metric_id": conversion_metric_id,
        **more,
    }
    return {"data": {"type": "campaign-values-report", "attributes": attributes}}


def _one_campaign(db: Database, client: Any, account: AccountKeys) -> dict[str, str]:
    campaign_id, message_id = make_campaign(client, account)
    context = {"$message": message_id, "Campaign Name": "Spring sale", "$variation": message_id}
    profiles = [make_profile(db, account.id, email=f"p{i}@shop.example") for i in range(5)]
    p1, p2, p3, p4, p5 = profiles
    sent = T0

    def send(profile: str, **more: Any) -> Send:
        return Send(profile, "campaign_message", message_id, at=sent, context=context, **more)

    add_sends(
        db,
        account.id,
        [
            send(p1, opened_at=sent + HOUR, clicked_at=sent + 2 * HOUR),
            send(p2, opened_at=sent + HOUR),
            send(p3, status="failed", bounce_type="hard", bounced_at=sent),
            send(p4, complained_at=sent + 3 * HOUR),
            send(p5, status="skipped"),  # never a recipient
        ],
    )
    order = metric_id(db, account.id)

    def message_event(metric: str, profile: str, at: dt.datetime, **props: Any) -> Happened:
        return Happened(metric, profile, at, {**context, **props})

    add_events(
        db,
        account.id,
        [
            message_event("Opened Email", p1, sent + HOUR),
            message_event("Opened Email", p1, sent + 5 * HOUR),
            message_event("Clicked Email", p1, sent + 2 * HOUR, **{"Bot Click": False}),
            message_event("Clicked Email", p1, sent + 2 * HOUR, **{"Bot Click": True}),  # a scanner
            message_event("Opened Email", p2, sent + HOUR),
            message_event("Unsubscribed from Email Marketing", p4, sent + 3 * HOUR),
            message_event("Marked Email as Spam", p4, sent + 3 * HOUR),
            # p1 orders two days after the click: attributed. p2 six days after the open: not.
            Happened("Placed Order", p1, sent + 2 * DAY, value=50.0, klaviyo=False),
            Happened("Placed Order", p2, sent + HOUR + 6 * DAY, value=70.0, klaviyo=False),
        ],
    )
    return {"campaign": campaign_id, "message": message_id, "order": order}


def test_every_statistic_of_one_campaign(sdk, db: Database, client, account: AccountKeys) -> None:  # type: ignore[no-untyped-def]
    made = _one_campaign(db, client, account)
    response = sdk.Reporting.query_campaign_values(_body(ALL_STATISTICS, made["order"]))
    [result] = response.data.attributes.results
    assert result.groupings == {
        "campaign_id": made["campaign"],
        "campaign_message_id": made["message"],
        "send_channel": "email",
    }
    stats = result.statistics
    assert stats["recipients"] == 4
    assert stats["delivered"] == 3
    assert stats["bounced"] == 1 and stats["failed"] == 0 and stats["bounced_or_failed"] == 1
    assert stats["opens"] == 3 and stats["opens_unique"] == 2
    assert stats["clicks"] == 1 and stats["clicks_unique"] == 1
    assert stats["unsubscribes"] == 1 and stats["unsubscribe_uniques"] == 1
    assert stats["spam_complaints"] == 1
    assert stats["conversions"] == 1 and stats["conversion_uniques"] == 1
    assert stats["conversion_value"] == pytest.approx(50.0)
    assert stats["delivery_rate"] == pytest.approx(0.75)
    assert stats["bounce_rate"] == pytest.approx(0.25)
    assert stats["open_rate"] == pytest.approx(2 / 3)
    assert stats["click_rate"] == pytest.approx(1 / 3)
    assert stats["click_to_open_rate"] == pytest.approx(0.5)
    assert stats["unsubscribe_rate"] == pytest.approx(1 / 3)
    assert stats["spam_complaint_rate"] == pytest.approx(1 / 3)
    assert stats["conversion_rate"] == pytest.approx(1 / 3)
    assert stats["revenue_per_recipient"] == pytest.approx(50 / 3)
    assert stats["average_order_value"] == pytest.approx(50.0)
    assert set(stats) == set(ALL_STATISTICS)
    campaigns = response.data.relationships.campaigns.data
    assert [c.id for c in campaigns] == [made["campaign"]]


def test_groupings_filters_and_timeframe(sdk, db: Database, client, account: AccountKeys) -> None:  # type: ignore[no-untyped-def]
    made = _one_campaign(db, client, account)
    other_campaign, other_message = make_campaign(client, account, "Other")
    profile = make_profile(db, account.id, email="sms@shop.example")
    add_sends(db, account.id, [Send(profile, "campaign_message", other_message, channel="sms", at=T0)])

    grouped = sdk.Reporting.query_campaign_values(
        _body(
            ["recipients"],
            made["order"],
            group_by=["campaign_id", "campaign_message_id", "campaign_message_name", "send_channel"],
        )
    )
    rows = {r.groupings["campaign_id"]: r for r in grouped.data.attributes.results}
    assert rows[made["campaign"]].groupings["campaign_message_name"] == "Spring sale email"
    assert rows[other_campaign].groupings["send_channel"] == "sms"
    assert rows[other_campaign].statistics == {"recipients": 1}

    only = sdk.Reporting.query_campaign_values(
        _body(["recipients"], made["order"], filter=f'equals(campaign_id,"{other_campaign}")')
    )
    assert [r.groupings["campaign_id"] for r in only.data.attributes.results] == [other_campaign]
    by_channel = sdk.Reporting.query_campaign_values(
        _body(
            ["recipients"],
            made["order"],
            filter='and(contains-any(send_channel,["email","push-notification"]))',
        )
    )
    assert [r.groupings["campaign_id"] for r in by_channel.data.attributes.results] == [made["campaign"]]

    # Sent before the timeframe: not in the report (activity is bundled by send date).
    earlier = {"start": "2025-11-01T00:00:00+00:00", "end": "2025-12-01T00:00:00+00:00"}
    body = _body(["recipients"], made["order"])
    body["data"]["attributes"]["timeframe"] = earlier
    assert sdk.Reporting.query_campaign_values(body).data.attributes.results == []


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"statistics": ["opens", "sends"]}, "/data/attributes/statistics/1"),
        ({"conversion_metric_id": None}, "/data/attributes/conversion_metric_id"),
        ({"conversion_metric_id": "XXXXXX"}, "/data/attributes/conversion_metric_id"),
        ({"group_by": ["send_channel"]}, "/data/attributes/group_by"),
        ({"group_by": ["campaign_id", "campaign_message_id", "tag_id"]}, "/data/attributes/group_by/2"),
        ({"filter": 'equals(flow_id,"x")'}, "/data/attributes/filter"),
        ({"filter": 'or(equals(campaign_id,"a"),equals(campaign_id,"b"))'}, "/data/attributes/filter"),
        ({"filter": 'equals(send_channel,"fax")'}, "/data/attributes/filter"),
        ({"filter": 'greater-than(campaign_id,"a")'}, "/data/attributes/filter"),
        ({"timeframe": {"key": "forever"}}, "/data/attributes/timeframe"),
        (
            {"timeframe": {"start": "2024-01-01T00:00:00+00:00", "end": "2026-01-01T00:00:00+00:00"}},
            "/data/attributes/timeframe",
        ),
    ],
)
def test_bad_requests_are_400_with_a_pointer(
    client, db: Database, account: AccountKeys, change, pointer
) -> None:  # type: ignore[no-untyped-def]
    order = metric_id(db, account.id)
    body = _body(["opens"], order)
    for key, value in change.items():
        if value is None:
            del body["data"]["attributes"][key]
        else:
            body["data"]["attributes"][key] = value
    response = client.post("/api/campaign-values-reports", json=body, headers=account.headers())
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"][:1]
    assert error["source"]["pointer"].startswith(pointer), error


def test_sdk_refuses_nothing_the_server_accepts_and_reports_a_bad_metric(
    sdk, db: Database, account: AccountKeys
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadRequestException) as raised:
        sdk.Reporting.query_campaign_values(_body(["opens"], "NOPE00"))
    assert "conversion_metric_id" in str(raised.value.body)


def test_a_custom_metric_as_the_conversion_metric(sdk, db: Database, client, account: AccountKeys) -> None:  # type: ignore[no-untyped-def]
    """Custom metrics are usable wherever a metric is: the conversions are its members' events."""
    made = _one_campaign(db, client, account)

    def custom(name: str, filters: list[dict[str, Any]] | None) -> str:
        group = {"metric_id": made["order"], "metric_filters": filters}
        definition = {"aggregation_method": "value", "metric_groups": [group]}
        body = {"data": {"type": "custom-metric", "attributes": {"name": name, "definition": definition}}}
        response = client.post("/api/custom-metrics", json=body, headers=account.headers())
        assert response.status_code == 201, response.text
        return str(response.json()["data"]["id"])

    def stats(conversion_metric_id: str) -> dict[str, Any]:
        body = _body(["conversions", "conversion_value"], conversion_metric_id)
        [result] = sdk.Reporting.query_campaign_values(body).data.attributes.results
        return dict(result.statistics)

    assert stats(custom("Orders", None)) == {"conversions": 1, "conversion_value": 50.0}
    nothing = [{"property": "Brand", "filter": {"type": "string", "operator": "equals", "value": "none"}}]
    assert stats(custom("No orders", nothing)) == {"conversions": 0, "conversion_value": 0.0}
