"""query_segment_values / query_segment_series from the membership history."""

from __future__ import annotations

import datetime as dt
import uuid

from tidings.jobs.worker import drain

CONDITION = {
    "type": "profile-property",
    "property": "properties['tier']",
    "filter": {"type": "string", "operator": "equals", "value": "gold"},
}


def _setup(sdk, db) -> str:  # type: ignore[no-untyped-def]
    for tier in ("gold", "gold", "silver"):
        email = f"r-{uuid.uuid4().hex[:10]}@example.com"
        body = {"data": {"type": "profile", "attributes": {"email": email, "properties": {"tier": tier}}}}
        sdk.Profiles.create_profile(body)
    body = {
        "data": {
            "type": "segment",
            "attributes": {"name": "Gold", "definition": {"condition_groups": [{"conditions": [CONDITION]}]}},
        }
    }
    segment_id = sdk.Segments.create_segment(body).data.id
    drain(db)
    return segment_id


def test_values_and_series(sdk, db, client, account) -> None:  # type: ignore[no-untyped-def]
    segment_id = _setup(sdk, db)
    now = dt.datetime.now(dt.UTC)
    custom = {
        "start": (now - dt.timedelta(days=1)).isoformat(),
        "end": (now + dt.timedelta(days=1)).isoformat(),
    }
    body = {
        "data": {
            "type": "segment-values-report",
            "attributes": {
                "statistics": ["total_members", "members_added", "net_members_changed"],
                "timeframe": custom,
                "filter": f'equals(segment_id,"{segment_id}")',
            },
        }
    }
    response = client.post("/api/segment-values-reports", json=body, headers=account.headers())
    assert response.status_code == 200, response.text
    assert response.json()["data"]["attributes"]["results"] == [
        {
            "groupings": {"segment_id": segment_id},
            "statistics": {"total_members": 2, "members_added": 2, "net_members_changed": 2},
        }
    ]
    past = {"key": "last_month"}
    body["data"]["attributes"]["timeframe"] = past  # type: ignore[index]
    response = client.post("/api/segment-values-reports", json=body, headers=account.headers())
    assert response.json()["data"]["attributes"]["results"][0]["statistics"]["total_members"] == 0

    series = {
        "data": {
            "type": "segment-series-report",
            "attributes": {
                "statistics": ["total_members"],
                "timeframe": custom,
                "interval": "daily",
                "filter": f'equals(segment_id,"{segment_id}")',
            },
        }
    }
    response = client.post("/api/segment-series-reports", json=series, headers=account.headers())
    assert response.status_code == 200, response.text
    attributes = response.json()["data"]["attributes"]
    totals = attributes["results"][0]["statistics"]["total_members"]
    assert len(totals) == len(attributes["date_times"]) >= 2
    assert totals[-1] == 2 and totals[0] in (0, 2)

    bad = {
        "data": {"type": "segment-values-report", "attributes": {"statistics": ["nope"], "timeframe": past}}
    }
    assert client.post("/api/segment-values-reports", json=bad, headers=account.headers()).status_code == 400


def test_reports_show_only_own_segments(sdk, db, client, other_account) -> None:  # type: ignore[no-untyped-def]
    segment_id = _setup(sdk, db)
    body = {
        "data": {
            "type": "segment-values-report",
            "attributes": {
                "statistics": ["total_members"],
                "timeframe": {"key": "today"},
                "filter": f'equals(segment_id,"{segment_id}")',
            },
        }
    }
    response = client.post("/api/segment-values-reports", json=body, headers=other_account.headers())
    assert response.status_code == 200 and response.json()["data"]["attributes"]["results"] == []
