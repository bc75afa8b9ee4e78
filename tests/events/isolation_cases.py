"""Isolation cases for events and metrics."""

from __future__ import annotations

from tests.events.factories import make_events, metric_id
from tests.isolation import Case, Env, Listing


def _event(env: Env) -> dict[str, str]:
    (event_id,) = make_events(env.db, env.a.id, [{"metric": "Isolated", "properties": {"p": 1}}])
    return {"id": event_id}


def _metric(env: Env) -> dict[str, str]:
    make_events(env.db, env.a.id, [{"metric": "Isolated", "properties": {"p": 1}}])
    return {"id": metric_id(env.db, env.a.id, "Isolated")}


def _property(env: Env) -> dict[str, str]:
    metric = _metric(env)["id"]
    data = env.as_a("GET", f"/api/metrics/{metric}/metric-properties").json()["data"]
    return {"id": data[0]["id"]}


CASES = [
    Case("GET", "/api/events/{id}", _event),
    Case("GET", "/api/events/{id}/metric", _event),
    Case("GET", "/api/events/{id}/relationships/metric", _event),
    Case("GET", "/api/events/{id}/relationships/profile", _event),
    Case("GET", "/api/metrics/{id}", _metric),
    Case("GET", "/api/metrics/{id}/metric-properties", _metric),
    Case("GET", "/api/metrics/{id}/relationships/metric-properties", _metric),
    Case("GET", "/api/metrics/{id}/flow-triggers", _metric),
    Case("GET", "/api/metrics/{id}/relationships/flow-triggers", _metric),
    Case("GET", "/api/metric-properties/{id}", _property),
    Case("GET", "/api/metric-properties/{id}/metric", _property),
    Case("GET", "/api/metric-properties/{id}/relationships/metric", _property),
    Case(
        "POST",
        "/api/metric-aggregates",
        _metric,
        body=lambda p: {
            "data": {
                "type": "metric-aggregate",
                "attributes": {
                    "metric_id": p["id"],
                    "measurements": ["count"],
                    "filter": [
                        "greater-or-equal(datetime,2020-01-01T00:00:00)",
                        "less-than(datetime,2030-01-01T00:00:00)",
                    ],
                },
            }
        },
    ),
]


def _events_of_a(env: Env) -> list[str]:
    return [_event(env)["id"]]


def _metrics_of_a(env: Env) -> list[str]:
    return [_metric(env)["id"]]


LISTINGS = [Listing("/api/events", _events_of_a), Listing("/api/metrics", _metrics_of_a)]

CASES.append(Case("GET", "/api/events/{id}/profile", _event))
