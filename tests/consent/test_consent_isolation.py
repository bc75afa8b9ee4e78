"""Consent is per account: another account unsubscribing the same email changes only its own profile."""

from __future__ import annotations

from tidings.consent import service
from tidings.consent.policy import Channel, Purpose, may_receive
from tidings.jobs.worker import drain


def test_unsubscribing_an_email_in_b_leaves_a_subscribed(client, db, account, other_account) -> None:
    body = {"data": {"type": "profile", "attributes": {"email": "both@example.com"}}}
    a_id = client.post("/api/profiles", json=body, headers=account.headers()).json()["data"]["id"]
    with db.write() as session:
        service.subscribe(session, account.id, a_id, Channel.EMAIL)
    unsubscribe = {
        "data": {
            "type": "profile-subscription-bulk-delete-job",
            "attributes": {
                "profiles": {"data": [{"type": "profile", "attributes": {"email": "both@example.com"}}]}
            },
        }
    }
    response = client.post(
        "/api/profile-subscription-bulk-delete-jobs", json=unsubscribe, headers=other_account.headers()
    )
    assert response.status_code == 202
    drain(db)
    with db.read() as session:
        assert may_receive(session, account.id, a_id, Channel.EMAIL, Purpose.MARKETING)
    found = client.get(
        "/api/profiles",
        params={"filter": 'equals(email,"both@example.com")'},
        headers=other_account.headers(),
    ).json()["data"]
    assert len(found) == 1 and found[0]["id"] != a_id
