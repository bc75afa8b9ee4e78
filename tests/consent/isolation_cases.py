"""Isolation cases for the subscription routes."""

from __future__ import annotations

from typing import Any

from tests.isolation import Case
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
