"""Sent emails to bounce, and what the API then shows about their profiles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.delivery.fakes import plan_send
from tests.profiles.factories import make_profile
from tidings.db.ids import ulid
from tidings.delivery import service
from tidings.delivery.tables import MessageSend
from tidings.jobs.worker import drain

BOUNCE_DOMAIN = "bounce.tidings.test"
CONTEXT = {
    "$message": "MSG123",
    "Campaign Name": "Winter sale",
    "Subject": "Our winter sale",
}


@dataclass(frozen=True)
class Sent:
    account_id: str
    profile_id: str
    send_id: str
    message_id: str
    email: str


def customer(db, account_id: str, email: str | None = None) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    email = email or f"{ulid().lower()}@example.net"
    return make_profile(db, account_id, email=email), email


def sent_email(
    db, account_id: str, profile_id: str, email: str, context: dict[str, Any] | None = None
) -> Sent:  # type: ignore[no-untyped-def]
    """A row planned, claimed (rendered with its recipient and context) and recorded sent."""

    def render(row: MessageSend) -> service.Rendered:
        body = f"Message-ID: {row.message_id}\r\nTo: {email}\r\n\r\nHello\r\n"
        return service.Rendered(body.encode(), recipient=email, context=dict(context or CONTEXT))

    with db.write() as session:
        planned = plan_send(session, account_id, profile_id=profile_id)
        send_id, message_id = planned.send.id, planned.send.message_id
    with db.write() as session:
        [claim] = service.claim(session, account_id, render)
    with db.write() as session:
        service.record_sent(session, claim, f"ref-{send_id}")
    return Sent(account_id, profile_id, send_id, message_id, email)


def events(client, account, profile_id: str) -> list[tuple[str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    """(metric name, properties) of the profile's events, through GET /api/events."""
    response = client.get(
        "/api/events",
        params={"filter": f'equals(profile_id,"{profile_id}")', "include": "metric"},
        headers=account.headers(),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    names = {m["id"]: m["attributes"]["name"] for m in body.get("included", [])}
    return [
        (names[e["relationships"]["metric"]["data"]["id"]], e["attributes"]["event_properties"])
        for e in body["data"]
    ]


def metric_names(client, account, profile_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(name for name, _props in events(client, account, profile_id))


def email_marketing(client, account, profile_id: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The profile's `subscriptions.email.marketing`, through get_profile."""
    response = client.get(
        f"/api/profiles/{profile_id}",
        params={"additional-fields[profile]": "subscriptions"},
        headers=account.headers(),
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]["attributes"]["subscriptions"]["email"]["marketing"]


def suppressions(client, account, profile_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(s["reason"] for s in email_marketing(client, account, profile_id)["suppression"])


def process(db) -> None:  # type: ignore[no-untyped-def]
    drain(db)
