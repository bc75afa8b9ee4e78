"""The webhook sender: batches what the outbox holds, sends it, records every attempt.

A round, for every endpoint that is enabled, has work and is not waiting out a failure:

1. claim (one short write transaction): fan the matched events out (`webhook_matches`, one
   row per event, written by the events' transaction) into one outbox row per endpoint; lock
   each due endpoint (`SKIP LOCKED` on PostgreSQL) and give it a lease; take its pending
   batches and, up to BATCHES_PER_TURN, make new ones from its outbox rows (at most
   `TIDINGS_WEBHOOK_BATCH_SIZE` events each, oldest first; the rows are deleted as they join a
   batch, and the body is built once, so every attempt sends the same bytes under the same
   `webhook-id`);
2. send (no transaction open): each endpoint's batches in order through the outbound guard,
   signed (`signing.headers`), stopping at its first failure, endpoints concurrently;
3. settle (one short write transaction): an attempt row per request; a 2xx marks the batch
   delivered and the endpoint healthy; anything else (a redirect, 4xx, 5xx, no answer, a
   refused address) counts a failure: the endpoint waits the Standard Webhooks schedule (5 s,
   5 min, 30 min, 2 h, 5 h, 10 h, 10 h, plus up to 10% jitter, or longer if the answer's
   `Retry-After` says so), and after the schedule runs out, or at a `410 Gone`, the endpoint
   is disabled, with the reason, until someone enables it again. Its events wait meanwhile.

A sender that dies after claiming leaves a lease that runs out; the batches go again (a
receiver dedupes by `webhook-id`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from sqlalchemy import delete, exists, insert, or_, select, update
from sqlalchemy.orm import Session

from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.db.dialect import bulk_insert_ignore, in_values, skip_locked
from tidings.db.ids import ulid
from tidings.db.session import Database
from tidings.jsonapi.documents import Urls
from tidings.outbound.addresses import Policy, URLRefused
from tidings.outbound.client import OutboundClient, OutboundFailed, OutboundResponse
from tidings.webhooks import listeners, payloads, signing
from tidings.webhooks.tables import (
    DELIVERED,
    PENDING,
    Webhook,
    WebhookAttempt,
    WebhookBatch,
    WebhookMatch,
    WebhookOutbox,
)

log = structlog.get_logger("tidings.webhooks")

SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)  # seconds to wait after the 1st, 2nd, ... failure
MAX_RETRY_AFTER = 24 * 3600
BATCHES_PER_TURN = 10
ENDPOINTS_PER_ROUND = 50
FAN_OUT = 10_000  # matched events fanned out per round
RESPONSE_KEPT = 2048  # characters of a response body kept with its attempt


@dataclass
class Batch:
    id: str
    body: bytes


@dataclass
class Turn:
    """One endpoint's share of a round."""

    account_id: str
    webhook_id: str
    url: str
    secret_key: str
    token: str
    batches: list[Batch]
    results: list[Result] = field(default_factory=list)


@dataclass
class Result:
    batch_id: str
    at: dt.datetime
    succeeded: bool
    status_code: int | None = None
    error: str | None = None
    duration_ms: int = 0
    response_body: str | None = None
    retry_after: float | None = None
    gone: bool = False


# ------------------------------------------------------------------------------ claim


def _has_work() -> object:
    outbox = exists().where(
        WebhookOutbox.account_id == Webhook.account_id, WebhookOutbox.webhook_id == Webhook.id
    )
    batches = exists().where(
        WebhookBatch.account_id == Webhook.account_id,
        WebhookBatch.webhook_id == Webhook.id,
        WebhookBatch.status == PENDING,
    )
    return or_(outbox, batches)


def fan_out(session: Session, account_id: str | None = None, limit: int = FAN_OUT) -> int:
    """Matched events (`webhook_matches`, one row per event) into one outbox row per endpoint
    that still exists; returns the matches taken."""
    stmt = select(WebhookMatch.account_id, WebhookMatch.event_id, WebhookMatch.webhook_ids)
    if account_id is not None:
        stmt = stmt.where(WebhookMatch.account_id == account_id)
    stmt = stmt.order_by(WebhookMatch.account_id, WebhookMatch.event_id).limit(limit)
    matches = session.execute(skip_locked(session, stmt)).all()
    if not matches:
        return 0
    by_account: dict[str, list[tuple[str, str]]] = {}
    for account, event_id, webhook_ids in matches:
        by_account.setdefault(account, []).append((event_id, webhook_ids))
    rows: list[dict[str, object]] = []
    for account, items in by_account.items():
        existing = set(session.execute(select(Webhook.id).where(Webhook.account_id == account)).scalars())
        rows += [
            {"account_id": account, "webhook_id": webhook_id, "event_id": event_id}
            for event_id, webhook_ids in items
            for webhook_id in webhook_ids.split(",")
            if webhook_id in existing
        ]
        session.execute(
            delete(WebhookMatch).where(
                WebhookMatch.account_id == account,
                in_values(session, WebhookMatch.event_id, [event_id for event_id, _ids in items]),
            )
        )
    if rows:
        bulk_insert_ignore(
            session,
            WebhookOutbox.__table__,  # type: ignore[arg-type]
            rows,
            index_elements=["account_id", "webhook_id", "event_id"],
            returning="event_id",
        )
    return len(matches)


def claim(
    session: Session, settings: Settings, now: dt.datetime, base_url: str, account_id: str | None = None
) -> list[Turn]:
    """Due endpoints with work (of one account only, when given) and their batches."""
    fan_out(session, account_id)
    stmt = (
        select(Webhook)
        .where(
            Webhook.enabled.is_(True),
            or_(Webhook.retry_at.is_(None), Webhook.retry_at <= now),
            or_(Webhook.claimed_until.is_(None), Webhook.claimed_until < now),
            _has_work(),  # type: ignore[arg-type]
        )
        .order_by(Webhook.retry_at.is_not(None), Webhook.account_id, Webhook.id)
        .limit(ENDPOINTS_PER_ROUND)
    )
    if account_id is not None:
        stmt = stmt.where(Webhook.account_id == account_id)
    lease = dt.timedelta(seconds=settings.webhook_timeout_seconds * BATCHES_PER_TURN + 60)
    urls = Urls(base_url, "", [])
    renderers: dict[str, payloads.Renderer] = {}
    taken: list[tuple[Webhook, list[Batch], list[str]]] = []
    for webhook in session.execute(skip_locked(session, stmt)).scalars():
        pending, event_ids = _take(session, settings, webhook)
        if not pending and not event_ids:
            continue
        taken.append((webhook, pending, event_ids))
        renderer = renderers.setdefault(
            webhook.account_id, payloads.Renderer(session, webhook.account_id, urls)
        )
        renderer.prefetch(event_ids)  # nothing rendered twice for two endpoints
    turns: list[Turn] = []
    new_rows: list[dict[str, object]] = []
    size = settings.webhook_batch_size
    for webhook, batches, event_ids in taken:
        renderer = renderers[webhook.account_id]
        for start in range(0, len(event_ids), size):
            body = renderer.body(webhook.id, event_ids[start : start + size], now)
            if not body.event_ids:
                continue
            batch_id = ulid()
            new_rows.append(
                {
                    "account_id": webhook.account_id,
                    "id": batch_id,
                    "webhook_id": webhook.id,
                    "status": PENDING,
                    "event_ids": body.event_ids,
                    "topics": body.topics,
                    "body": body.text,
                    "attempts": 0,
                    "created": now,
                }
            )
            batches.append(Batch(batch_id, body.text.encode()))
        if not batches:
            continue
        webhook.claimed_until, webhook.lease_token = now + lease, ulid()
        turns.append(
            Turn(
                webhook.account_id,
                webhook.id,
                webhook.endpoint_url,
                webhook.secret_key,
                webhook.lease_token,
                batches,
            )
        )
    if new_rows:
        session.execute(insert(WebhookBatch), new_rows)
    session.flush()
    return turns


def _take(session: Session, settings: Settings, webhook: Webhook) -> tuple[list[Batch], list[str]]:
    """The endpoint's pending batches, and events taken out of its outbox for new ones."""
    account_id, webhook_id = webhook.account_id, webhook.id
    rows = session.execute(
        select(WebhookBatch.id, WebhookBatch.body)
        .where(
            WebhookBatch.account_id == account_id,
            WebhookBatch.webhook_id == webhook_id,
            WebhookBatch.status == PENDING,
        )
        .order_by(WebhookBatch.id)
        .limit(BATCHES_PER_TURN)
    ).all()
    batches = [Batch(batch_id, body.encode()) for batch_id, body in rows]
    room = (BATCHES_PER_TURN - len(batches)) * settings.webhook_batch_size
    if room <= 0:
        return batches, []
    event_ids = list(
        session.execute(
            select(WebhookOutbox.event_id)
            .where(WebhookOutbox.account_id == account_id, WebhookOutbox.webhook_id == webhook_id)
            .order_by(WebhookOutbox.event_id)
            .limit(room)
        ).scalars()
    )
    if event_ids:  # the endpoint's row is locked: no other sender takes these meanwhile
        session.execute(
            delete(WebhookOutbox).where(
                WebhookOutbox.account_id == account_id,
                WebhookOutbox.webhook_id == webhook_id,
                in_values(session, WebhookOutbox.event_id, event_ids),
            )
        )
    return batches, event_ids


# ------------------------------------------------------------------------------ send


def _retry_after(response: OutboundResponse, now: dt.datetime) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER)


def _text(body: bytes) -> str | None:
    if not body:
        return None
    return body[:RESPONSE_KEPT].decode("utf-8", "replace").replace("\x00", "")


async def send_turn(client: OutboundClient, turn: Turn, clock: Callable[[], dt.datetime] = utcnow) -> None:
    for batch in turn.batches:
        now = clock()
        headers = signing.headers(
            endpoint_id=turn.webhook_id,
            batch_id=batch.id,
            secret_key=turn.secret_key,
            body=batch.body,
            now=now,
        )
        result = Result(batch.id, now, False)
        try:
            response = await client.request("POST", turn.url, headers=headers, content=batch.body)
        except (URLRefused, OutboundFailed) as exc:
            result.error = str(exc)[:1000]
        else:
            result.status_code = response.status_code
            result.duration_ms = response.elapsed_ms
            result.response_body = _text(response.body)
            if response.is_success:
                result.succeeded = True
            elif response.is_redirect:
                location = response.headers.get("location", "")
                result.error = f"redirects are not followed ({response.status_code} to {location[:200]})"
            else:
                result.error = f"the endpoint answered {response.status_code}"
                result.gone = response.status_code == 410
                result.retry_after = _retry_after(response, now)
        turn.results.append(result)
        if not result.succeeded:
            return


# ------------------------------------------------------------------------------ settle


def settle(
    session: Session, turns: list[Turn], now: dt.datetime, jitter: Callable[[], float] = random.random
) -> None:
    for turn in turns:
        webhook = session.get(Webhook, (turn.account_id, turn.webhook_id), with_for_update=True)
        if webhook is None or webhook.lease_token != turn.token:
            log.info("webhooks.lease_lost", account_id=turn.account_id, webhook_id=turn.webhook_id)
            continue
        webhook.claimed_until, webhook.lease_token = None, None
        for result in turn.results:
            _record(session, webhook, result, now, jitter)


def _record(
    session: Session, webhook: Webhook, result: Result, now: dt.datetime, jitter: Callable[[], float]
) -> None:
    next_at: dt.datetime | None = None
    values: dict[str, object] = {
        "attempts": WebhookBatch.attempts + 1,
        "last_status_code": result.status_code,
        "last_error": result.error,
    }
    if result.succeeded:
        values |= {"status": DELIVERED, "delivered_at": now}
        webhook.failures, webhook.retry_at = 0, None
    else:
        webhook.failures += 1
        if result.gone or webhook.failures > len(SCHEDULE):
            why = "it answered 410 Gone" if result.gone else f"{webhook.failures} failed attempts in a row"
            webhook.enabled, webhook.disabled_at, webhook.retry_at = False, now, None
            webhook.disabled_reason = f"Disabled: {why} (last: {result.error})"
            log.warning("webhooks.disabled", account_id=webhook.account_id, webhook_id=webhook.id, reason=why)
        else:
            wait = SCHEDULE[webhook.failures - 1] * (1 + 0.1 * jitter())
            wait = max(wait, result.retry_after or 0.0)
            next_at = webhook.retry_at = now + dt.timedelta(seconds=wait)
    session.execute(
        update(WebhookBatch)
        .where(WebhookBatch.account_id == webhook.account_id, WebhookBatch.id == result.batch_id)
        .values(values)
    )
    session.add(
        WebhookAttempt(
            account_id=webhook.account_id,
            id=ulid(),
            webhook_id=webhook.id,
            batch_id=result.batch_id,
            attempted_at=result.at,
            succeeded=result.succeeded,
            status_code=result.status_code,
            error=result.error,
            duration_ms=result.duration_ms,
            response_body=result.response_body,
            next_attempt_at=next_at,
        )
    )


# ------------------------------------------------------------------------------ the worker


def policy_for(settings: Settings) -> Policy:
    return Policy(
        allow_private=settings.allow_private_urls,
        timeout=settings.webhook_timeout_seconds,
        max_bytes=settings.webhook_max_response_bytes,
    )


def base_url(settings: Settings) -> str:
    return settings.public_url or "http://localhost"


async def run_round(
    db: Database, settings: Settings, client: OutboundClient, account_id: str | None = None
) -> int:
    """One claim, send and settle; returns the number of requests made."""
    with db.write() as session:
        turns = claim(session, settings, utcnow(), base_url(settings), account_id)
    if not turns:
        return 0
    await asyncio.gather(*(send_turn(client, turn) for turn in turns))
    with db.write() as session:
        settle(session, turns, utcnow())
    return sum(len(t.results) for t in turns)


class WebhookSender:
    """One thread with its own event loop, running rounds until stopped."""

    def __init__(self, db: Database, settings: Settings | None = None, *, index: int = 0,
                 client_factory: Callable[[Policy], OutboundClient] | None = None) -> None:  # fmt: skip
        self.db = db
        self.settings = settings or db.settings
        self.name = f"webhooks:{os.getpid()}:{index}"
        self._factory = client_factory or (
            lambda policy: OutboundClient(policy, user_agent=signing.USER_AGENT)
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name=f"tidings-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        listeners.wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_forever(self) -> None:
        log.info("webhooks.sender_started", worker=self.name)
        asyncio.run(self._run())
        log.info("webhooks.sender_stopped", worker=self.name)

    async def _run(self) -> None:
        client = self._factory(policy_for(self.settings))
        try:
            while not self._stop.is_set():
                try:
                    sent = await run_round(self.db, self.settings, client)
                except Exception:
                    log.exception("webhooks.round_failed", worker=self.name)
                    sent = 0
                if not sent:
                    await asyncio.to_thread(listeners.wakeup.wait, self.settings.job_poll_interval)
                    listeners.wakeup.clear()
        finally:
            await client.aclose()


def webhook_senders(db: Database, settings: Settings, count: int | None = None) -> list[WebhookSender]:
    n = settings.webhook_workers if count is None else count
    return [WebhookSender(db, settings, index=i) for i in range(n)]
