"""A key of account B never sees account A's report figures, nor uses A's metric."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import AccountKeys
from tests.profiles.factories import make_profile
from tests.reporting.conftest import make_campaign
from tests.reporting.ledger import T0, Happened, Send, add_events, add_sends, metric_id
from tidings.db.session import Database

TIMEFRAME = {"start": "2025-12-25T00:00:00+00:00", "end": "2026-01-20T00:00:00+00:00"}
ROUTES = {
    "/api/campaign-values-reports": "campaign-values-report",
    "/api/flow-values-reports": "flow-values-report",
    "/api/flow-series-reports": "flow-series-report",
}


def _body(route: str, order: str, **more: Any) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "statistics": ["recipients", "opens"],
        "timeframe": TIMEFRAME,
        "conversion_metric_id": order,
        **more,
    }
    if route == "/api/flow-series-reports":
        attributes["interval"] = "weekly"
    return {"data": {"type": ROUTES[route], "attributes": attributes}}


@pytest.mark.parametrize("route", list(ROUTES))
def test_another_accounts_report(
    client, db: Database, account: AccountKeys, other_account: AccountKeys, route: str
) -> None:  # type: ignore[no-untyped-def]
    campaign_id, message_id = make_campaign(client, account)
    profile = make_profile(db, account.id, email="a@shop.example")
    add_sends(
        db,
        account.id,
        [
            Send(profile, "campaign_message", message_id, at=T0, context={"$message": message_id}),
            Send(profile, "flow_action", "A1", at=T0, context={"$flow": "F1", "$message": "FM1"}),
        ],
    )
    add_events(db, account.id, [Happened("Opened Email", profile, T0, {"$message": message_id})])
    a_order = metric_id(db, account.id)
    b_order = metric_id(db, other_account.id)

    mine = client.post(route, json=_body(route, a_order), headers=account.headers())
    assert mine.status_code == 200, mine.text
    assert mine.json()["data"]["attributes"]["results"]  # A sees its own figures

    with_a_metric = client.post(route, json=_body(route, a_order), headers=other_account.headers())
    assert with_a_metric.status_code == 400, with_a_metric.text
    assert with_a_metric.json()["errors"][0]["source"]["pointer"] == "/data/attributes/conversion_metric_id"

    named = (
        f'equals(campaign_id,"{campaign_id}")'
        if route == "/api/campaign-values-reports"
        else 'equals(flow_id,"F1")'
    )
    theirs = client.post(route, json=_body(route, b_order, filter=named), headers=other_account.headers())
    assert theirs.status_code == 200, theirs.text
    assert theirs.json()["data"]["attributes"]["results"] == []
