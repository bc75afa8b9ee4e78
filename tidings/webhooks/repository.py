"""Queries of the webhooks domain."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from tidings.webhooks.tables import (
    PENDING,
    Webhook,
    WebhookAttempt,
    WebhookBatch,
    WebhookMatch,
    WebhookOutbox,
    WebhookTopic,
)


def get(session: Session, account_id: str, webhook_id: str) -> Webhook | None:
    return session.get(Webhook, (account_id, webhook_id))


def list_all(session: Session, account_id: str) -> list[Webhook]:
    stmt = select(Webhook).where(Webhook.account_id == account_id).order_by(Webhook.created, Webhook.id)
    return list(session.execute(stmt).scalars())


def count(session: Session, account_id: str) -> int:
    stmt = select(func.count()).select_from(Webhook).where(Webhook.account_id == account_id)
    return int(session.execute(stmt).scalar_one())


def topics_of(session: Session, account_id: str, webhook_ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    if webhook_ids:
        stmt = (
            select(WebhookTopic.webhook_id, WebhookTopic.topic)
            .where(WebhookTopic.account_id == account_id, WebhookTopic.webhook_id.in_(webhook_ids))
            .order_by(WebhookTopic.webhook_id, WebhookTopic.topic)
        )
        for webhook_id, topic in session.execute(stmt):
            found[webhook_id].append(topic)
    return found


def set_topics(session: Session, account_id: str, webhook_id: str, topics: list[str]) -> None:
    session.execute(
        delete(WebhookTopic).where(
            WebhookTopic.account_id == account_id, WebhookTopic.webhook_id == webhook_id
        )
    )
    if topics:
        session.execute(
            WebhookTopic.__table__.insert(),  # type: ignore[attr-defined]
            [{"account_id": account_id, "webhook_id": webhook_id, "topic": t} for t in topics],
        )


def enabled_subscriptions(session: Session, account_id: str) -> dict[str, list[str]]:
    """Topic -> the enabled endpoints subscribed to it."""
    stmt = (
        select(WebhookTopic.topic, WebhookTopic.webhook_id)
        .join(
            Webhook,
            (Webhook.account_id == WebhookTopic.account_id) & (Webhook.id == WebhookTopic.webhook_id),
        )
        .where(WebhookTopic.account_id == account_id, Webhook.enabled.is_(True))
    )
    found: dict[str, list[str]] = defaultdict(list)
    for topic, webhook_id in session.execute(stmt):
        found[topic].append(webhook_id)
    return found


def delete_webhook(session: Session, account_id: str, webhook_id: str) -> None:
    for table in (WebhookOutbox, WebhookAttempt, WebhookBatch, WebhookTopic):
        session.execute(delete(table).where(table.account_id == account_id, table.webhook_id == webhook_id))
    session.execute(delete(Webhook).where(Webhook.account_id == account_id, Webhook.id == webhook_id))


def pending_events(session: Session, account_id: str, webhook_id: str) -> int:
    outbox = select(func.count()).where(
        WebhookOutbox.account_id == account_id, WebhookOutbox.webhook_id == webhook_id
    )
    pending = select(WebhookBatch.event_ids).where(
        WebhookBatch.account_id == account_id,
        WebhookBatch.webhook_id == webhook_id,
        WebhookBatch.status == PENDING,
    )
    matched = select(func.count()).where(
        WebhookMatch.account_id == account_id, WebhookMatch.webhook_ids.contains(webhook_id)
    )
    return (
        int(session.execute(outbox).scalar_one())
        + int(session.execute(matched).scalar_one())
        + sum(len(ids) for ids in session.execute(pending).scalars())
    )


def batches_query(account_id: str, webhook_id: str) -> Select[tuple[WebhookBatch]]:
    return select(WebhookBatch).where(
        WebhookBatch.account_id == account_id, WebhookBatch.webhook_id == webhook_id
    )


def attempts_of(session: Session, account_id: str, batch_ids: list[str]) -> dict[str, list[WebhookAttempt]]:
    found: dict[str, list[WebhookAttempt]] = defaultdict(list)
    if batch_ids:
        stmt = (
            select(WebhookAttempt)
            .where(WebhookAttempt.account_id == account_id, WebhookAttempt.batch_id.in_(batch_ids))
            .order_by(WebhookAttempt.id)
        )
        for attempt in session.execute(stmt).scalars():
            found[attempt.batch_id].append(attempt)
    return found


def get_batch(session: Session, account_id: str, batch_id: str) -> WebhookBatch | None:
    return session.get(WebhookBatch, (account_id, batch_id))
