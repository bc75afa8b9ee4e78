"""Helpers for the campaign send tests: people in lists, a sendable campaign, running the send."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.campaigns.conftest import EMAIL, Shop
from tidings.campaigns import sending
from tidings.config import Settings
from tidings.db.session import Database
from tidings.delivery.tables import MessageSend
from tidings.delivery.worker import deliver_due
from tidings.jobs.worker import drain
from tidings.lists import service as lists
from tidings.profiles.service import create_profile


def people(db: Database, account_id: str, list_id: str, attributes: list[dict[str, Any]]) -> list[str]:
    """Profiles made from `attributes`, each joined to the list; their ids."""
    with db.write() as session:
        ids = [create_profile(session, account_id, dict(a)).profile.id for a in attributes]
        lists.add_profiles(session, account_id, list_id, ids)
    return ids


def sendable(
    shop: Shop, attributes: dict[str, Any], definition: dict[str, Any] | None = None
) -> dict[str, str]:
    """A campaign with a template assigned (email), ready to send: its id and its message's."""
    response = shop.create(attributes, definition or EMAIL)
    assert response.status_code == 201, response.text
    campaign = response.json()["data"]
    message_id = campaign["relationships"]["campaign-messages"]["data"][0]["id"]
    if (definition or EMAIL)["channel"] == "email":
        template = shop.make_template("<p>Hello {{ first_name|default:'there' }}</p>")
        body = {
            "data": {
                "type": "campaign-message",
                "id": message_id,
                "relationships": {"template": {"data": {"type": "template", "id": template}}},
            }
        }
        assigned = shop.request("POST", "/api/campaign-message-assign-template", json=body)
        assert assigned.status_code == 200, assigned.text
    return {"id": campaign["id"], "message": message_id}


def send(shop: Shop, campaign_id: str) -> Any:
    return shop.request(
        "POST", "/api/campaign-send-jobs", json={"data": {"type": "campaign-send-job", "id": campaign_id}}
    )


def act(shop: Shop, campaign_id: str, action: str) -> Any:
    body = {"data": {"type": "campaign-send-job", "id": campaign_id, "attributes": {"action": action}}}
    return shop.request("PATCH", f"/api/campaign-send-jobs/{campaign_id}", json=body)


def status(shop: Shop, campaign_id: str) -> str:
    response = shop.request("GET", f"/api/campaigns/{campaign_id}")
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["attributes"]["status"])


def rows(db: Database, account_id: str, message_id: str) -> list[MessageSend]:
    with db.read() as session:
        query = select(MessageSend).where(
            MessageSend.account_id == account_id, MessageSend.source_id == message_id
        )
        return list(session.execute(query.order_by(MessageSend.profile_id)).scalars())


def outbox(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"outbox_dir": str(tmp_path / "outbox")})


def run_send(db: Database, settings: Settings, account_id: str, campaign_id: str) -> None:
    """What the workers do: jobs (planning), delivery of what is due, then the progress check."""
    drain(db)
    deliver_due(db, settings)
    follow(db, account_id, campaign_id)


def follow(db: Database, account_id: str, campaign_id: str, now: dt.datetime | None = None) -> None:
    """The `campaigns.progress` job, run now rather than at its time."""
    with db.write() as session:
        sending.progress(session, account_id, campaign_id, now)
