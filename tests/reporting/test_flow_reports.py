"""query_flow_values and query_flow_series through the official SDK, on ledger rows and events
written the way the flow executor and delivery write them (flows are not built yet)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import AccountKeys
from tests.profiles.factories import make_profile
from tests.reporting.ledger import T0, Happened, Send, add_events, add_sends, metric_id
from tidings.db.session import Database

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
TIMEFRAME = {"start": "2025-12-31T00:00:00+00:00", "end": "2026-01-07T00:00:00+00:00"}


def _context(flow: str, message: str) -> dict[str, Any]:
    return {"$flow": flow, "$message": message}


def _flows(db: Database, account: AccountKeys) -> str:
    a, b, c, d, e = (make_profile(db, account.id, email=f"{n}@shop.example") for n in "abcde")
    fm1 = _context("F1", "FM1")
    later = T0 + 3 * DAY

    def flow_send(profile: str, context: dict[str, Any], at: dt.datetime, channel: str = "email") -> Send:
        return Send(
            profile, "flow_action", f"action-{context['$message']}", channel=channel, at=at, context=context
        )

    add_sends(
        db,
        account.id,
        [
            flow_send(a, fm1, T0),
            flow_send(a, fm1, later),  # a second run of the same flow message
            flow_send(b, fm1, T0),
            flow_send(e, fm1, T0),
            flow_send(c, _context("F1", "FM2"), T0, channel="sms"),
            flow_send(d, _context("F2", "FM3"), T0, channel="push"),
            Send(e, "campaign_message", "CM", at=T0 + 2 * HOUR, context={"$message": "CM"}),
        ],
    )

    def opened(profile: str, message: str, at: dt.datetime, metric: str = "Opened Email") -> Happened:
        return Happened(metric, profile, at, {"$message": message})

    def order(profile: str, at: dt.datetime, value: float) -> Happened:
        return Happened("Placed Order", profile, at, value=value, klaviyo=False)

    add_events(
        db,
        account.id,
        [
            opened(a, "FM1", T0 + HOUR),  # counts for a's first send
            opened(a, "FM1", later + HOUR),  # and this for the second
            opened(b, "FM1", T0 + HOUR),
            opened(e, "FM1", T0 + HOUR),
            opened(e, "CM", T0 + 2 * HOUR + dt.timedelta(minutes=1)),
            opened(d, "FM3", T0 + HOUR, metric="Opened Push"),
            # a: 4 days 23 hours after the open of the second send (inside 5 days).
            order(a, later + HOUR + 4 * DAY + 23 * HOUR, 30.0),
            # b: 5 days and 1 hour after its open: outside the window.
            order(b, T0 + HOUR + 5 * DAY + HOUR, 40.0),
            # c: 11 hours after an SMS was delivered (12 hours), then two days after (nothing).
            order(c, T0 + 11 * HOUR, 20.0),
            order(c, T0 + 2 * DAY, 25.0),
            # d: 23 hours after a push open (24 hours), then 25 hours after.
            order(d, T0 + HOUR + 23 * HOUR, 10.0),
            order(d, T0 + HOUR + 25 * HOUR, 15.0),
            # e: the campaign's open is e's last touch: the campaign converts, not the flow.
            order(e, T0 + DAY, 99.0),
        ],
    )
    return metric_id(db, account.id)


def _attributes(order: str, statistics: list[str], **more: Any) -> dict[str, Any]:
    return {"statistics": statistics, "timeframe": TIMEFRAME, "conversion_metric_id": order, **more}


def test_flow_values_per_flow_message(sdk, db: Database, account: AccountKeys) -> None:  # type: ignore[no-untyped-def]
    order = _flows(db, account)
    statistics = ["recipients", "opens", "opens_unique", "conversions", "conversion_value", "open_rate"]
    body = {"data": {"type": "flow-values-report", "attributes": _attributes(order, statistics)}}
    response = sdk.Reporting.query_flow_values(body)
    results = {
        (r.groupings["flow_id"], r.groupings["flow_message_id"], r.groupings["send_channel"]): r.statistics
        for r in response.data.attributes.results
    }
    assert results == {
        ("F1", "FM1", "email"): {
            "recipients": 4,
            "opens": 4,
            "opens_unique": 4,
            "conversions": 1,
            "conversion_value": 30.0,
            "open_rate": 1.0,
        },
        ("F1", "FM2", "sms"): {
            "recipients": 1,
            "opens": 0,
            "opens_unique": 0,
            "conversions": 1,
            "conversion_value": 20.0,
            "open_rate": 0.0,
        },
        ("F2", "FM3", "push-notification"): {
            "recipients": 1,
            "opens": 1,
            "opens_unique": 1,
            "conversions": 1,
            "conversion_value": 10.0,
            "open_rate": 1.0,
        },
    }
    relationships = response.data.relationships
    assert [f.id for f in relationships.flows.data] == ["F1", "F2"]
    assert [m.id for m in relationships.flow_messages.data] == ["FM1", "FM2", "FM3"]

    only = {"data": {"type": "flow-values-report", "attributes": _attributes(order, ["recipients"])}}
    only["data"]["attributes"]["filter"] = 'and(equals(flow_id,"F1"),contains-any(send_channel,["sms"]))'
    [row] = sdk.Reporting.query_flow_values(only).data.attributes.results
    assert row.groupings["flow_message_id"] == "FM2"


def test_flow_series_bundles_activity_by_send_date(sdk, db: Database, account: AccountKeys) -> None:  # type: ignore[no-untyped-def]
    order = _flows(db, account)
    attributes = _attributes(
        order,
        ["recipients", "opens", "conversions"],
        interval="daily",
        filter='equals(flow_message_id,"FM1")',
        group_by=["flow_id", "flow_message_id"],
    )
    response = sdk.Reporting.query_flow_series(
        {"data": {"type": "flow-series-report", "attributes": attributes}}
    )
    dates = [dt.datetime.fromisoformat(str(d)) for d in response.data.attributes.date_times]
    assert dates == [T0 - DAY + i * DAY for i in range(7)]
    [row] = response.data.attributes.results
    assert row.groupings == {"flow_id": "F1", "flow_message_id": "FM1"}
    assert row.statistics == {
        "recipients": [0, 3, 0, 0, 1, 0, 0],
        "opens": [0, 3, 0, 0, 1, 0, 0],
        "conversions": [0, 0, 0, 0, 1, 0, 0],
    }


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"interval": "hourly"}, "/data/attributes/interval"),  # 7 days of hours is the most
        ({"interval": "yearly"}, "/data/attributes/interval"),
        ({"group_by": ["flow_id"]}, "/data/attributes/group_by"),
        ({"group_by": ["flow_id", "flow_message_id", "campaign_id"]}, "/data/attributes/group_by/2"),
    ],
)
def test_bad_series_requests(client, db: Database, account: AccountKeys, change, pointer) -> None:  # type: ignore[no-untyped-def]
    order = metric_id(db, account.id)
    attributes = _attributes(order, ["opens"], **{"interval": "daily", **change})
    attributes["timeframe"] = {"start": "2026-01-01T00:00:00+00:00", "end": "2026-01-09T00:00:00+00:00"}
    body = {"data": {"type": "flow-series-report", "attributes": attributes}}
    response = client.post("/api/flow-series-reports", json=body, headers=account.headers())
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["source"]["pointer"].startswith(pointer)
