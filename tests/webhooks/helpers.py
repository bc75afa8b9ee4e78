"""Helpers for webhook delivery tests: make an endpoint, run the sender, move its clock."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select, update

from tests.conftest import AccountKeys
from tidings.config import Settings
from tidings.db.session import Database
from tidings.outbound.client import OutboundClient
from tidings.webhooks.sender import policy_for, run_round
from tidings.webhooks.tables import Webhook, WebhookMatch, WebhookOutbox

SECRET = "s3cret-key-for-tests"


def make_webhook(client, account: AccountKeys, url: str, topics: list[str], *, secret: str = SECRET) -> str:  # type: ignore[no-untyped-def]
    body = {
        "data": {
            "type": "webhook",
            "attributes": {"name": "hook", "endpoint_url": url, "secret_key": secret},
            "relationships": {
                "webhook-topics": {"data": [{"type": "webhook-topic", "id": t} for t in topics]}
            },
        }
    }
    response = client.post("/api/webhooks", json=body, headers=account.headers())
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def send_round(db: Database, settings: Settings, account_id: str) -> int:
    """One round of the sender for this account's endpoints (other tests' stay out of it)."""

    async def go() -> int:
        async with OutboundClient(policy_for(settings)) as outbound:
            return await run_round(db, settings, outbound, account_id)

    return asyncio.run(go())


def send_all(db: Database, settings: Settings, account_id: str, rounds: int = 20) -> int:
    total = 0
    for _ in range(rounds):
        sent = send_round(db, settings, account_id)
        if not sent:
            break
        total += sent
    return total


def endpoint(db: Database, account_id: str, webhook_id: str) -> Webhook:
    with db.read() as session:
        webhook = session.get(Webhook, (account_id, webhook_id))
        assert webhook is not None
        session.expunge(webhook)
        return webhook


def time_passes(db: Database, account_id: str, webhook_id: str) -> None:
    """The endpoint's wait is over (as if its retry time had come)."""
    with db.write() as session:
        session.execute(
            update(Webhook)
            .where(Webhook.account_id == account_id, Webhook.id == webhook_id)
            .values(retry_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )


def outbox(db: Database, account_id: str) -> list[tuple[str, str]]:
    """(endpoint, event) pairs waiting for a batch: matched, or fanned out already."""
    with db.read() as session:
        rows = session.execute(
            select(WebhookOutbox.webhook_id, WebhookOutbox.event_id).where(
                WebhookOutbox.account_id == account_id
            )
        )
        pairs = [(w, e) for w, e in rows]
        matched = session.execute(
            select(WebhookMatch.webhook_ids, WebhookMatch.event_id).where(
                WebhookMatch.account_id == account_id
            )
        )
        pairs += [(w, e) for ids, e in matched for w in ids.split(",")]
        return sorted(pairs)
