"""Webhook background jobs: delivered batches and their attempts are kept for a while, then pruned."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tidings.config import get_settings
from tidings.db.base import utcnow
from tidings.jobs.registry import JobContext, job
from tidings.webhooks.tables import DELIVERED, WebhookAttempt, WebhookBatch

PRUNE_CHUNK = 5000


def prune(session: Session, older_than: dt.datetime) -> int:
    """Delete delivered batches created before `older_than`, with their attempts."""
    rows = session.execute(
        select(WebhookBatch.account_id, WebhookBatch.id)
        .where(WebhookBatch.status == DELIVERED, WebhookBatch.created < older_than)
        .limit(PRUNE_CHUNK)
    ).all()
    by_account: dict[str, list[str]] = {}
    for account_id, batch_id in rows:
        by_account.setdefault(account_id, []).append(batch_id)
    for account_id, ids in by_account.items():
        session.execute(
            delete(WebhookAttempt).where(
                WebhookAttempt.account_id == account_id, WebhookAttempt.batch_id.in_(ids)
            )
        )
        session.execute(
            delete(WebhookBatch).where(WebhookBatch.account_id == account_id, WebhookBatch.id.in_(ids))
        )
    return len(rows)


@job("webhooks.prune", every_seconds=3600)
def prune_deliveries(session: Session, context: JobContext) -> None:
    prune(session, utcnow() - dt.timedelta(days=get_settings().webhook_retention_days))


JOBS = (prune_deliveries,)
