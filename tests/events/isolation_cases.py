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


# ------------------------------------------------------------------------------ custom metrics


def _custom_metric(env: Env) -> dict[str, str]:
    metric = _metric(env)["id"]
    definition = {"aggregation_method": "count", "metric_groups": [{"metric_id": metric}]}
    body = {
        "data": {"type": "custom-metric", "attributes": {"name": f"A's {metric}", "definition": definition}}
    }
    response = env.as_a("POST", "/api/custom-metrics", json=body)
    assert response.status_code == 201, response.text
    return {"id": response.json()["data"]["id"], "metric": metric}


def _custom_unchanged(env: Env, params: dict[str, str]) -> None:
    response = env.as_a("GET", f"/api/custom-metrics/{params['id']}")
    assert response.status_code == 200 and response.json()["data"]["attributes"]["name"].startswith("A's")


CASES += [
    Case("GET", "/api/custom-metrics/{id}", _custom_metric),
    Case(
        "PATCH",
        "/api/custom-metrics/{id}",
        _custom_metric,
        body=lambda p: {"data": {"type": "custom-metric", "id": p["id"], "attributes": {"name": "B's"}}},
        unchanged=_custom_unchanged,
    ),
    Case("DELETE", "/api/custom-metrics/{id}", _custom_metric, unchanged=_custom_unchanged),
    Case("GET", "/api/custom-metrics/{id}/metrics", _custom_metric),
    Case("GET", "/api/custom-metrics/{id}/relationships/metrics", _custom_metric),
    Case(
        "POST",
        "/api/metric-aggregates",
        _custom_metric,
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
LISTINGS.append(Listing("/api/custom-metrics", lambda env: [_custom_metric(env)["id"]]))

# Mapped metrics are named by the conversion kind (revenue, ...), which every account has: B's key
# reads and changes B's own mapping, never A's (tests/events/test_mapped_metrics.py checks it).
_MAPPED = "a mapped metric's id is a conversion kind every account has; B's key reaches B's own mapping"
EXEMPT = {
    ("POST", "/api/custom-metrics"): "creates a custom metric in the caller's own account",
    ("GET", "/api/mapped-metrics"): _MAPPED,
    ("GET", "/api/mapped-metrics/{id}"): _MAPPED,
    ("PATCH", "/api/mapped-metrics/{id}"): _MAPPED,
    ("GET", "/api/mapped-metrics/{id}/metric"): _MAPPED,
    ("GET", "/api/mapped-metrics/{id}/relationships/metric"): _MAPPED,
    ("GET", "/api/mapped-metrics/{id}/custom-metric"): _MAPPED,
    ("GET", "/api/mapped-metrics/{id}/relationships/custom-metric"): _MAPPED,
}
