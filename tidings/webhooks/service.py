"""Webhook endpoints: validation, storage, topics, redelivery.

An endpoint URL is checked by the outbound guard when it is given (https only; no private
address unless TIDINGS_ALLOW_PRIVATE_URLS), and again at every request, since a name can
resolve elsewhere later.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.jsonapi.errors import APIError, ErrorList, InvalidInput, NotFound
from tidings.outbound.addresses import Policy, URLRefused, check_now
from tidings.webhooks import repository, topics
from tidings.webhooks.schemas import TopicIdentifier, WebhookCreateAttributes, WebhookUpdateAttributes
from tidings.webhooks.tables import DELIVERED, PENDING, Webhook, WebhookBatch

MAX_WEBHOOKS = 100  # [INF] per account; Klaviyo publishes no number
TOPICS_POINTER = "/data/relationships/webhook-topics/data"


@dataclass
class WebhookView:
    webhook: Webhook
    topics: list[str]


def get_webhook(session: Session, account_id: str, webhook_id: str) -> Webhook:
    webhook = repository.get(session, account_id, webhook_id)
    if webhook is None:
        raise NotFound(f"A webhook with id {webhook_id} does not exist.")
    return webhook


def view(session: Session, account_id: str, webhook: Webhook) -> WebhookView:
    return WebhookView(webhook, repository.topics_of(session, account_id, [webhook.id]).get(webhook.id, []))


def list_webhooks(session: Session, account_id: str) -> list[WebhookView]:
    webhooks = repository.list_all(session, account_id)
    found = repository.topics_of(session, account_id, [w.id for w in webhooks])
    return [WebhookView(w, found.get(w.id, [])) for w in webhooks]


def _check_url(url: str, allow_private: bool) -> str:
    try:
        check_now(url, Policy(allow_private=allow_private))
    except URLRefused as exc:
        raise InvalidInput(f"endpoint_url: {exc}", pointer="/data/attributes/endpoint_url") from None
    return url


def _check_topics(session: Session, account_id: str, given: list[TopicIdentifier]) -> list[str]:
    known = set(topics.account_topics(session, account_id))
    chosen: list[str] = []
    errors: list[APIError] = []
    for index, item in enumerate(given):
        topic = topics.canonical(item.id)
        if topic not in known:
            errors.append(
                InvalidInput(
                    f"{item.id!r} is not a webhook topic of this account "
                    "(GET /api/webhook-topics lists them).",
                    pointer=f"{TOPICS_POINTER}/{index}/id",
                )
            )
        elif topic not in chosen:
            chosen.append(topic)
    if errors:
        raise ErrorList(errors)
    if not chosen:
        raise InvalidInput("A webhook needs at least one topic.", pointer=TOPICS_POINTER)
    return chosen


def create_webhook(
    session: Session,
    account_id: str,
    attributes: WebhookCreateAttributes,
    given_topics: list[TopicIdentifier],
    *,
    allow_private: bool,
) -> WebhookView:
    _check_url(attributes.endpoint_url, allow_private)
    chosen = _check_topics(session, account_id, given_topics)
    if repository.count(session, account_id) >= MAX_WEBHOOKS:
        raise InvalidInput(f"An account may have at most {MAX_WEBHOOKS} webhooks.")
    now = utcnow()
    webhook = Webhook(
        account_id=account_id,
        id=ulid(),
        name=attributes.name,
        description=attributes.description,
        endpoint_url=attributes.endpoint_url,
        secret_key=attributes.secret_key,
        enabled=True,
        failures=0,
        created=now,
        updated=now,
    )
    session.add(webhook)
    session.flush()
    repository.set_topics(session, account_id, webhook.id, chosen)
    return WebhookView(webhook, chosen)


def update_webhook(
    session: Session,
    account_id: str,
    webhook_id: str,
    attributes: WebhookUpdateAttributes,
    given_topics: list[TopicIdentifier] | None,
    *,
    allow_private: bool,
) -> WebhookView:
    webhook = get_webhook(session, account_id, webhook_id)
    if attributes.endpoint_url is not None:
        webhook.endpoint_url = _check_url(attributes.endpoint_url, allow_private)
    if given_topics is not None:
        repository.set_topics(
            session, account_id, webhook.id, _check_topics(session, account_id, given_topics)
        )
    if attributes.name is not None:
        webhook.name = attributes.name
    if "description" in attributes.model_fields_set:
        webhook.description = attributes.description
    if attributes.secret_key is not None:
        webhook.secret_key = attributes.secret_key
    if attributes.enabled is not None and attributes.enabled != webhook.enabled:
        webhook.enabled = attributes.enabled
        if attributes.enabled:  # enabled again: a fresh start, its waiting events go out now
            webhook.failures, webhook.retry_at = 0, None
            webhook.disabled_at, webhook.disabled_reason = None, None
        else:
            webhook.disabled_at, webhook.disabled_reason = utcnow(), "disabled by request"
    webhook.updated = utcnow()
    session.flush()
    return view(session, account_id, webhook)


def delete_webhook(session: Session, account_id: str, webhook_id: str) -> None:
    get_webhook(session, account_id, webhook_id)
    repository.delete_webhook(session, account_id, webhook_id)
    session.flush()


def get_topic(session: Session, account_id: str, topic_id: str) -> str:
    topic = topics.canonical(topic_id)
    if topic not in topics.account_topics(session, account_id):
        raise NotFound(f"A webhook topic with id {topic_id} does not exist.")
    return topic


def redeliver(session: Session, account_id: str, batch_id: str) -> WebhookBatch:
    """Send a batch again (a delivered one too), at its endpoint's next turn, now if it is not
    waiting out a failure."""
    batch = repository.get_batch(session, account_id, batch_id)
    if batch is None:
        raise NotFound(f"A webhook delivery with id {batch_id} does not exist.")
    webhook = get_webhook(session, account_id, batch.webhook_id)
    if not webhook.enabled:
        raise InvalidInput(
            "The webhook is disabled: enable it (PATCH /api/webhooks/{id}, enabled: true) first.",
            pointer="/data/id",
        )
    if batch.status == DELIVERED:
        batch.status, batch.delivered_at = PENDING, None
    webhook.retry_at = None
    session.flush()
    return batch
