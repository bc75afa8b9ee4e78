"""Isolation cases for the segment routes: a key of account B never reads or changes A's segments."""

from __future__ import annotations

from tests.isolation import Case, Env, Listing

DEFINITION = {
    "condition_groups": [
        {
            "conditions": [
                {
                    "type": "profile-property",
                    "property": "email",
                    "filter": {"type": "existence", "operator": "is-set"},
                }
            ]
        }
    ]
}


def a_segment(env: Env) -> dict[str, str]:
    body = {"data": {"type": "segment", "attributes": {"name": "A's segment", "definition": DEFINITION}}}
    response = env.as_a("POST", "/api/segments", json=body)
    assert response.status_code == 201, response.text
    return {"id": response.json()["data"]["id"]}


def unchanged(env: Env, params: dict[str, str]) -> None:
    response = env.as_a("GET", f"/api/segments/{params['id']}")
    assert response.status_code == 200 and response.json()["data"]["attributes"]["name"] == "A's segment"


CASES = [
    Case("GET", "/api/segments/{id}", a_segment),
    Case(
        "PATCH",
        "/api/segments/{id}",
        a_segment,
        body=lambda p: {"data": {"type": "segment", "id": p["id"], "attributes": {"name": "B"}}},
        unchanged=unchanged,
    ),
    Case("DELETE", "/api/segments/{id}", a_segment, unchanged=unchanged),
    Case("GET", "/api/segments/{id}/profiles", a_segment),
    Case("GET", "/api/segments/{id}/relationships/profiles", a_segment),
    Case("GET", "/api/segments/{id}/tags", a_segment),
    Case("GET", "/api/segments/{id}/relationships/tags", a_segment),
    Case("GET", "/api/segments/{id}/flow-triggers", a_segment),
    Case("GET", "/api/segments/{id}/relationships/flow-triggers", a_segment),
    Case("GET", "/api/x-tidings/segments/{id}/explain", a_segment),
    Case("GET", "/api/x-tidings/segments/{id}/changes", a_segment),
]

LISTINGS = [Listing("/api/segments", lambda env: [a_segment(env)["id"]])]

EXEMPT = {
    ("POST", "/api/segments"): "creates a segment in the caller's own account",
    ("POST", "/api/segment-values-reports"): "reports only the caller's segments; another account's "
    "segment id in the filter matches nothing (tests/segments/test_reports.py)",
    ("POST", "/api/segment-series-reports"): "as query_segment_values",
}
