"""Isolation cases for the subscription routes."""

from __future__ import annotations

from typing import Any

from tests.isolation import Case, Listing
from tests.profiles.isolation_cases import a_profile, unchanged


def subscribe_by_id(params: dict[str, str]) -> dict[str, Any]:
    profile = {
        "type": "profile",
        "id": params["id"],
        "attributes": {"subscriptions": {"email": {"marketing": {"consent": "SUBSCRIBED"}}}},
    }
    return {
        "data": {
            "type": "profile-subscription-bulk-create-job",
            "attributes": {"profiles": {"data": [profile]}},
        }
    }


CASES = [
    Case(
        "POST",
        "/api/profile-subscription-bulk-create-jobs",
        a_profile,
        body=subscribe_by_id,
        unchanged=unchanged,
    ),
]

EXEMPT = {
    ("POST", "/api/profile-subscription-bulk-delete-jobs"): (
        "names profiles by email or phone only, which resolve within the caller's account; "
        "tests/consent/test_consent_isolation.py shows that B unsubscribing A's email leaves A subscribed"
    ),
}


def a_suppression_job(kind: str):  # type: ignore[no-untyped-def]
    def setup(env):  # type: ignore[no-untyped-def]
        collection = (
            "profile-suppression-bulk-create-jobs"
            if kind == "suppress"
            else "profile-suppression-bulk-delete-jobs"
        )
        type_ = (
            "profile-suppression-bulk-create-job"
            if kind == "suppress"
            else "profile-suppression-bulk-delete-job"
        )
        body = {
            "data": {
                "type": type_,
                "attributes": {
                    "profiles": {"data": [{"type": "profile", "attributes": {"email": "iso@example.com"}}]}
                },
            }
        }
        response = env.as_a("POST", f"/api/{collection}", json=body)
        assert response.status_code == 202, response.text
        return {"job_id": response.json()["data"]["id"]}

    return setup


CASES += [
    Case("GET", "/api/profile-suppression-bulk-create-jobs/{job_id}", a_suppression_job("suppress")),
    Case("GET", "/api/profile-suppression-bulk-delete-jobs/{job_id}", a_suppression_job("unsuppress")),
]
LISTINGS = [
    Listing(
        "/api/profile-suppression-bulk-create-jobs",
        lambda env: [a_suppression_job("suppress")(env)["job_id"]],
    ),
    Listing(
        "/api/profile-suppression-bulk-delete-jobs",
        lambda env: [a_suppression_job("unsuppress")(env)["job_id"]],
    ),
]
EXEMPT.update(
    {
        ("POST", "/api/profile-suppression-bulk-create-jobs"): (
            "names profiles by email (resolved in the caller's account) or by a list of the caller's; an "
            "unknown list is 404 (tests/consent/test_suppression_jobs.py)"
        ),
        ("POST", "/api/profile-suppression-bulk-delete-jobs"): "as bulk_suppress_profiles",
    }
)
