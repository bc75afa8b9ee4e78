"""The `send-webhook` action: a durable job per (action, run, visit), never a call inside the
executor's transaction.

The executor renders the request for the run (the body is a template: `person`, and `event` of
the triggering event, as messages have) and enqueues `flows.webhook` with it (dedup key
`fw:{action}:{run}:{visit}`: a step done again after a rollback enqueues nothing new); the run
goes on. The job POSTs it to the action's URL through the outbound guard (https only, no private
addresses unless TIDINGS_ALLOW_PRIVATE_URLS), with the action's headers and an `Idempotency-Key`
header, before it touches the database (no transaction is open across the call), then traces the
answer. A failure (no answer, a non-2xx, a refused URL) raises: the job is retried with the
queue's backoff and dead-lettered after its attempts (`tidings jobs list`), each failure kept on
the job.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.orm import Session

from tidings.config import get_settings
from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.flows.resolver import message_document
from tidings.flows.runtime import Run
from tidings.flows.tables import FlowAction, FlowRunStep
from tidings.jobs.queue import enqueue
from tidings.jobs.registry import JobContext
from tidings.outbound.addresses import Policy
from tidings.outbound.client import OutboundClient
from tidings.templates.links import LinkSigner, instance_secret
from tidings.templates.messages import AccountView, SkippedMessage, account_view, render_plain
from tidings.templates.recipients import recipient

WEBHOOK_JOB = "flows.webhook"
TIMEOUT_SECONDS = 15.0
MAX_ATTEMPTS = 8


class WebhookFailed(Exception):
    pass


class Renderer:
    """Renders the webhook bodies of one group of runs (one account)."""

    def __init__(self, session: Session, account_id: str) -> None:
        settings = get_settings()
        self.session, self.account_id = session, account_id
        self.account: AccountView = account_view(session, account_id)
        self.signer = LinkSigner(instance_secret(session, settings.secret_key), settings.public_url)

    def body(self, run: Run, source: str) -> str:
        person = recipient(self.session, self.account_id, run.profile_id, event_id=run.event_id)
        rendered = render_plain({"body": source}, person, self.account, signer=self.signer)
        if isinstance(rendered, SkippedMessage):
            raise WebhookFailed(f"the body was not rendered: {rendered}")
        return str(rendered.get("body") or "")


def enqueue_webhook(session: Session, action: FlowAction, run: Run, body: str) -> None:
    message = message_document(action.definition, "message")
    headers = {str(k): str(v) for k, v in (message.get("headers") or {}).items()}
    headers.setdefault("Content-Type", "application/json")
    headers["Idempotency-Key"] = f"{action.id}:{run.id}:{run.visit}"
    enqueue(
        session,
        WEBHOOK_JOB,
        {
            "url": str(message.get("url") or ""),
            "headers": headers,
            "body": body,
            "run_id": run.id,
            "flow_id": run.flow_id,
            "action_id": action.id,
            "visit": run.visit,
        },
        account_id=run.account_id,
        dedup_key=f"fw:{action.id}:{run.id}:{run.visit}",
        max_attempts=MAX_ATTEMPTS,
        lane="network",
    )


async def _post(url: str, headers: dict[str, str], body: bytes, policy: Policy) -> int:
    async with OutboundClient(policy, user_agent="tidings-flows/1") as client:
        response = await client.request("POST", url, headers=headers, content=body)
    return response.status_code


def send(session: Session, context: JobContext) -> None:
    """The job: the request first (no transaction open), then its trace."""
    payload: dict[str, Any] = context.payload
    settings = get_settings()
    policy = Policy(allow_private=settings.allow_private_urls, timeout=TIMEOUT_SECONDS, max_bytes=65536)
    headers = {str(k): str(v) for k, v in dict(payload["headers"]).items()}
    status = asyncio.run(_post(str(payload["url"]), headers, str(payload["body"]).encode(), policy))
    if not 200 <= status < 300:
        raise WebhookFailed(f"the endpoint answered {status}")
    session.add(
        FlowRunStep(
            account_id=context.account_id,
            id=ulid(),
            run_id=str(payload["run_id"]),
            flow_id=str(payload["flow_id"]),
            action_id=str(payload["action_id"]),
            visit=int(payload["visit"]),
            outcome="delivered",
            reason=f"Webhook answered {status}",
            at=utcnow(),
        )
    )
