"""The send ledger's state machine.

    plan ──► planned ──claim──► sending ──► sent
               │  ▲               │  ├────► failed           (permanent, or out of attempts)
               │  └──retryable────┘  ├────► planned          (retryable: same bytes, later)
               │  └──janitor, email──┤
               │                     └janitor, sms/push─► unknown   (assumed sent, shown as such)
               ├──cancel──► cancelled
               └──skip────► skipped    (also at planning, or at claim when rendering skips)

Whoever decides to send calls `plan` (insert-if-absent: a repeated key returns the first row,
never a second). A worker calls `claim`, and its caller commits before calling the provider:
the row is `sending` with a lease and a fresh lease token, and its content is rendered once,
the first time, and stored. After the provider call, `record_sent` / `record_failed` settle
the row only if the token still holds the lease. The janitor turns expired leases into the
channel's policy: email is resent (the same bytes and Message-ID, counted in `resends`), SMS
and push stay `unknown` (a second text or notification is worse than a missing one).

The unit of work belongs to the caller (the job runner): these functions flush at most.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.delivery import repository
from tidings.delivery.provider import OutboundMessage, SendError
from tidings.delivery.sending_settings import SendingSettings, settings_of
from tidings.delivery.tables import Channel, MessageSend, SendStatus, SourceKind

LEASE_SECONDS = 120.0  # a claim's time to render, call the provider and record the outcome
MAX_ATTEMPTS = 5  # claims of one row, resends included
UNKNOWN_REASON = "Delivery Unknown"
PLANNED_FLAG = "delivery_planned"  # in session.info: this transaction planned a send


class SkipReason(StrEnum):
    """Why a planned message was not sent, in Klaviyo's words (its flow analytics' skip reasons),
    with a few of ours where Klaviyo names none (marked)."""

    SMART_SENDING = "Smart Sending"
    SUPPRESSED = "Person Suppressed"
    UNSUBSCRIBED = "Not Subscribed"  # ours: consent refused for the channel and purpose
    MISSING_EMAIL = "Missing Email"
    MISSING_PHONE_NUMBER = "Missing Phone Number"  # ours
    MISSING_PUSH_TOKEN = "Missing Push Token"  # ours
    QUIET_HOURS = "Quiet Hours"  # ours: Klaviyo reschedules; kept for a window that cannot wait
    TEMPLATE_ERROR = "Email Syntax Error"
    CATALOG_ITEM_UNAVAILABLE = "Catalog Item Unavailable"
    COUPON_UNAVAILABLE = "Coupon Unavailable"  # ours: the coupon has no free code left (or none exists)
    NO_LONGER_IN_LIST = "Person No Longer in List"
    FAILS_FLOW_FILTERS = "Fails Flow Filters"
    FAILS_ADDITIONAL_FILTERS = "Fails Additional Filters"
    OVER_EMAIL_LIMIT = "Over Email Limit"
    PERSON_DELETED = "Person Deleted"
    MESSAGE_DRAFT = "Message Draft"
    FLOW_DRAFT = "Flow Draft"
    EMAIL_CANCELLED = "Email Cancelled"


class LeaseLost(Exception):
    """An outcome from a worker that no longer holds the row (the janitor or another worker
    took it): refused, so two attempts never both settle one row."""


# Where the row came from; the idempotency key is made from it and never from the content.
@dataclass(frozen=True)
class CampaignMessageSource:
    campaign_message_id: str


@dataclass(frozen=True)
class FlowActionSource:
    flow_action_id: str
    run_id: str
    visit: int = 1


@dataclass(frozen=True)
class ApiSource:
    key: str  # the caller's idempotency key


Source = CampaignMessageSource | FlowActionSource | ApiSource


def idempotency_key(source: Source, profile_id: str) -> str:
    match source:
        case CampaignMessageSource(campaign_message_id=message):
            return f"c:{message}:{profile_id}"
        case FlowActionSource(flow_action_id=action, run_id=run, visit=visit):
            return f"f:{action}:{run}:{visit}"
        case ApiSource(key=key):
            return f"a:{key}"


def message_id_for(account_id: str, key: str, domain: str) -> str:
    """The email's Message-ID: the same for every attempt of the row, different per account."""
    digest = hashlib.sha256(f"{account_id}\x00{key}".encode()).digest()[:20]
    token = base64.b32encode(digest).decode().rstrip("=").lower()
    return f"<{token}.{account_id.lower()}@{domain}>"


@dataclass(frozen=True)
class Planned:
    send: MessageSend
    created: bool  # False: the key existed, and `send` is the first row


def plan(
    session: Session,
    account_id: str,
    *,
    source: Source,
    profile_id: str,
    channel: Channel,
    domain: str,
    planned_for: dt.datetime | None = None,
    event_id: str | None = None,
    source_id: str | None = None,
    skip: SkipReason | None = None,
    detail: str | None = None,
) -> Planned:
    """Write the row `planned` (or `skipped`, with a reason, when the planner already knows)
    if its key is new; a repeated key changes nothing and returns the existing row."""
    now = utcnow()
    key = idempotency_key(source, profile_id)
    kind, source_column, run_id, visit = source_columns(source)
    row = {
        "account_id": account_id,
        "id": ulid(),
        "idempotency_key": key,
        "channel": Channel(channel).value,
        "profile_id": profile_id,
        "source_kind": kind,
        "source_id": source_id or source_column,  # an api send names its stored definition
        "run_id": run_id,
        "visit": visit,
        "event_id": event_id,
        "status": SendStatus.SKIPPED.value if skip else SendStatus.PLANNED.value,
        "reason": skip.value if skip else None,
        "detail": detail,
        "attempts": 0,
        "resends": 0,
        "message_id": message_id_for(account_id, key, domain),
        "created": now,
        "planned_for": planned_for or now,
        "finished_at": now if skip else None,
    }
    created = repository.insert_if_absent(session, row)
    if created and not skip:
        session.info[PLANNED_FLAG] = True
    send = repository.by_key(session, account_id, key)
    assert send is not None  # inserted now, or there before
    return Planned(send, created)


def plan_many(
    session: Session,
    account_id: str,
    *,
    source: CampaignMessageSource,
    profiles: Select[Any],
    channel: Channel,
    domain: str,
    planned_for: dt.datetime | None = None,
    context: dict[str, Any] | None = None,
) -> int:
    """Plan the message for every profile `profiles` selects (the profile id; duplicates are
    fine; a second column, if any, is each row's due time, else `planned_for`) in one
    INSERT ... SELECT, insert-if-absent: a profile planned before for this campaign message is
    left as it was. No row goes through Python, however large the audience. Returns how many
    rows were written."""
    now = utcnow()
    written = repository.plan_audience(
        session,
        account_id,
        profiles,
        key_prefix=idempotency_key(source, ""),
        channel=Channel(channel).value,
        source_kind=SourceKind.CAMPAIGN_MESSAGE.value,
        source_id=source.campaign_message_id,
        domain=domain,
        created=now,
        planned_for=planned_for or now,
        id_prefix=ulid()[: 26 - repository.ID_DIGITS],
        context=context,
    )

    if written:
        session.info[PLANNED_FLAG] = True
    return written


@dataclass(frozen=True)
class FlowSend:
    """One message of a flow run to plan: its key is (action, run, visit), its definition is
    found through `source_id` (the flow message), its events carry `event_id`'s properties."""

    source: FlowActionSource
    profile_id: str
    channel: Channel
    source_id: str
    domain: str
    event_id: str | None = None


def plan_flow_sends(
    session: Session, account_id: str, sends: Sequence[FlowSend], *, now: dt.datetime | None = None
) -> dict[str, str]:
    """Plan many flow messages at once, insert-if-absent on their keys (a step retried after a
    rollback writes nothing twice); returns each key's row id, whether written now or before."""
    if not sends:
        return {}
    now = now or utcnow()
    rows: list[dict[str, Any]] = []
    keys: list[str] = []
    for item in sends:
        key = idempotency_key(item.source, item.profile_id)
        keys.append(key)
        rows.append(
            {
                "account_id": account_id,
                "id": ulid(),
                "idempotency_key": key,
                "channel": Channel(item.channel).value,
                "profile_id": item.profile_id,
                "source_kind": SourceKind.FLOW_ACTION.value,
                "source_id": item.source_id,
                "run_id": item.source.run_id,
                "visit": item.source.visit,
                "event_id": item.event_id,
                "status": SendStatus.PLANNED.value,
                "attempts": 0,
                "resends": 0,
                "message_id": message_id_for(account_id, key, item.domain),
                "created": now,
                "planned_for": now,
            }
        )
    inserted = set(repository.insert_many_if_absent(session, rows))
    if inserted:
        session.info[PLANNED_FLAG] = True
    found = {row["idempotency_key"]: row["id"] for row in rows if row["idempotency_key"] in inserted}
    missing = [key for key in keys if key not in found]  # planned before (a step done again)
    found.update(repository.ids_by_key(session, account_id, missing))
    return found


def source_columns(source: Source) -> tuple[str, str | None, str | None, int | None]:
    match source:
        case CampaignMessageSource(campaign_message_id=message):
            return SourceKind.CAMPAIGN_MESSAGE, message, None, None
        case FlowActionSource(flow_action_id=action, run_id=run, visit=visit):
            return SourceKind.FLOW_ACTION, action, run, visit
        case ApiSource():
            return SourceKind.API, None, None, None


@dataclass(frozen=True)
class Skip:
    """What a renderer returns instead of content: send nothing, for this reason."""

    reason: SkipReason
    detail: str | None = None


@dataclass(frozen=True)
class Rendered:
    """A row's message, rendered: stored with the row the first time it is claimed and sent as
    is by every attempt."""

    content: bytes  # email: the whole signed message, with the row's Message-ID
    recipient: str  # the address, number or device token
    sender: str | None = None  # email: the envelope sender; push: the token's platform
    context: dict[str, Any] | None = None  # the properties of the message's events


# Renders a row's message; called once per row, the first time it is claimed.
Renderer = Callable[[MessageSend], Rendered | Skip]
# Checked before rendering, for a batch of due rows: a row it answers Skip for is skipped, a row
# it answers a time for waits until then (quiet hours); the others go on.
Gate = Callable[[Session, Sequence[MessageSend], dt.datetime], dict[str, "Skip | dt.datetime"]]


@dataclass(frozen=True)
class Claim:
    """A row held by one worker: what to send and the token that proves the hold."""

    account_id: str
    send_id: str
    token: str
    attempt: int
    resend: bool  # an earlier attempt may have been delivered (the janitor sent it back)
    message: OutboundMessage
    profile_id: str = ""
    context: dict[str, Any] | None = None  # the properties of the message's events


class Claims(list[Claim]):
    """The claims of one call, and how many due rows it took (claimed, skipped or held): fewer
    than asked means nothing more was due."""

    examined: int = 0


def claim(
    session: Session,
    account_id: str | None,
    render: Renderer,
    *,
    gate: Gate | None = None,
    limit: int = 100,
    lease_seconds: float = LEASE_SECONDS,
    now: dt.datetime | None = None,
    channels: Sequence[Channel] | None = None,
) -> Claims:
    """Take due `planned` rows (of one account, or of every account with None) into `sending`
    with a lease. A row rendered before keeps its content; a new one first passes the gate
    (skipped, or held until a later time), then is rendered now and its bytes stored, or
    skipped if the renderer says so. The caller must commit before calling the provider."""
    now = now or utcnow()
    wanted = [c.value for c in channels] if channels is not None else None
    rows = repository.lock_due(session, account_id, now, limit, wanted)
    verdicts = gate(session, [r for r in rows if r.content is None], now) if gate is not None else {}
    settings = settings_of(session, {row.account_id for row in rows})
    with session.no_autoflush:  # one flush at the end, not one per rendered row
        claims = Claims(
            c
            for row in rows
            if (c := _take(row, verdicts.get(row.id), render, now, lease_seconds, settings[row.account_id]))
        )
    claims.examined = len(rows)
    session.flush()
    return claims


def _take(
    row: MessageSend,
    verdict: Skip | dt.datetime | None,
    render: Renderer,
    now: dt.datetime,
    lease_seconds: float,
    settings: SendingSettings,
) -> Claim | None:
    """One due row: skipped, held, or rendered (once) and taken into `sending`."""
    if isinstance(verdict, Skip):
        _finish(row, SendStatus.SKIPPED, now, verdict.reason.value, verdict.detail)
        return None
    if isinstance(verdict, dt.datetime):
        row.planned_for = verdict
        return None
    if row.content is None:
        rendered = render(row)
        if isinstance(rendered, Skip):
            _finish(row, SendStatus.SKIPPED, now, rendered.reason.value, rendered.detail)
            return None
        row.content = rendered.content
        row.content_sha256 = hashlib.sha256(rendered.content).hexdigest()
        row.recipient = rendered.recipient
        row.sender = rendered.sender
        row.context = rendered.context
    token = ulid()
    row.status = SendStatus.SENDING
    row.attempts += 1
    row.lease_token = token
    row.claimed_until = now + dt.timedelta(seconds=lease_seconds)
    row.sending_at = now
    row.smart_until = now + settings.window(Channel(row.channel))
    return Claim(
        account_id=row.account_id,
        send_id=row.id,
        token=token,
        attempt=row.attempts,
        resend=row.resends > 0,
        message=OutboundMessage(
            account_id=row.account_id,
            send_id=row.id,
            idempotency_key=row.idempotency_key,
            channel=Channel(row.channel),
            message_id=row.message_id,
            content=row.content,
            content_sha256=row.content_sha256 or "",
            recipient=row.recipient or "",
            sender=row.sender,
        ),
        profile_id=row.profile_id,
        context=row.context,
    )


def record_sent(session: Session, held: Claim, provider_ref: str, *, now: dt.datetime | None = None) -> None:
    """The provider took the message. Raises LeaseLost if the claim no longer holds the row."""
    now = now or utcnow()
    values = {**_released(), "status": SendStatus.SENT, "provider_ref": provider_ref, "finished_at": now}
    if not repository.update_held(session, held.account_id, held.send_id, held.token, values):
        raise LeaseLost(held.send_id)


def record_sent_many(
    session: Session, sent: Sequence[tuple[Claim, str]], *, now: dt.datetime | None = None
) -> list[Claim]:
    """`record_sent` for many claims in a few statements (a lock and one update per account):
    the claims whose lease still holds are settled `sent`; returns the others (lost leases)."""
    now = now or utcnow()
    by_account: dict[str, list[tuple[Claim, str]]] = {}
    for held, ref in sent:
        by_account.setdefault(held.account_id, []).append((held, ref))
    lost: list[Claim] = []
    for account_id, items in by_account.items():
        holding = repository.lock_held(session, account_id, [(h.send_id, h.token) for h, _ in items])
        rows = []
        for held, ref in items:
            if held.send_id not in holding:
                lost.append(held)
                continue
            rows.append(
                {
                    "account_id": account_id,
                    "id": held.send_id,
                    "status": SendStatus.SENT.value,
                    "provider_ref": ref[:255],
                    "finished_at": now,
                    "lease_token": None,
                    "claimed_until": None,
                }
            )
        repository.update_many(session, rows)
    return lost


def record_failed(
    session: Session, held: Claim, error: SendError, *, now: dt.datetime | None = None
) -> SendStatus:
    """The provider did not take the message: a retryable error plans it again after a backoff
    (the same bytes), until MAX_ATTEMPTS; a permanent one ends it `failed`. Returns the new
    status; raises LeaseLost if the claim no longer holds the row."""
    now = now or utcnow()
    retry_after = getattr(error, "retry_after", None)
    if error.retryable and held.attempt < MAX_ATTEMPTS:
        status = SendStatus.PLANNED
        delay = retry_after if retry_after is not None else backoff_seconds(held.attempt)
        values = {**_released(), "status": status, "planned_for": now + dt.timedelta(seconds=delay)}
    else:
        status = SendStatus.FAILED
        values = {**_released(), "status": status, "finished_at": now}
    values.update(reason=error.reason[:64], detail=error.detail)
    if not repository.update_held(session, held.account_id, held.send_id, held.token, values):
        raise LeaseLost(held.send_id)
    return status


def record_unknown(
    session: Session, held: Claim, error: SendError, *, now: dt.datetime | None = None
) -> None:
    """The provider may or may not have taken the message (no answer came back): the row ends
    `unknown`, as the janitor leaves an SMS or push whose worker vanished; never sent again.
    Raises LeaseLost if the claim no longer holds the row."""
    now = now or utcnow()
    values = {
        **_released(),
        "status": SendStatus.UNKNOWN,
        "reason": UNKNOWN_REASON,
        "detail": f"{error.reason}: {error.detail}" if error.detail else error.reason,
        "finished_at": now,
    }
    if not repository.update_held(session, held.account_id, held.send_id, held.token, values):
        raise LeaseLost(held.send_id)


def backoff_seconds(attempt: int) -> float:
    return float(min(30 * 2 ** (attempt - 1), 3600))


def skip(
    session: Session, account_id: str, send_ids: Sequence[str], reason: SkipReason, detail: str | None = None
) -> int:
    """Skip `planned` rows (a gate failed: consent, suppression, smart sending ...); others are
    left alone. Returns how many."""
    values = {**_released(), "status": SendStatus.SKIPPED, "reason": reason.value, "detail": detail}
    return repository.update_planned(
        session, account_id, {**values, "finished_at": utcnow()}, send_ids=send_ids
    )


def skip_claimed(session: Session, held: Claim, reason: SkipReason, detail: str | None = None) -> None:
    """A held row whose gate failed at send time (checked again after the claim)."""
    values = {**_released(), "status": SendStatus.SKIPPED, "reason": reason.value, "detail": detail}
    if not repository.update_held(
        session, held.account_id, held.send_id, held.token, {**values, "finished_at": utcnow()}
    ):
        raise LeaseLost(held.send_id)


def cancel(
    session: Session,
    account_id: str,
    *,
    send_ids: Sequence[str] | None = None,
    source_id: str | None = None,
) -> int:
    """Cancel the account's `planned` rows among `send_ids` and/or of a campaign message or flow
    action; a row already `sending` or settled is never touched. Returns how many."""
    if send_ids is None and source_id is None:
        raise ValueError("cancel needs send_ids or source_id")
    values = {**_released(), "status": SendStatus.CANCELLED, "finished_at": utcnow()}
    return repository.update_planned(session, account_id, values, send_ids=send_ids, source_id=source_id)


@dataclass(frozen=True)
class Expired:
    account_id: str
    send_id: str
    channel: Channel


@dataclass(frozen=True)
class JanitorReport:
    resent: list[Expired]  # email, planned again with its stored bytes and Message-ID
    unknown: list[Expired]  # sms and push (and email out of attempts): assumed sent, not resent


def janitor(session: Session, *, now: dt.datetime | None = None, limit: int = 500) -> JanitorReport:
    """Settle `sending` rows whose lease ran out (their worker vanished, between the claim and
    the outcome): each is `unknown`, then its channel's policy applies."""
    now = now or utcnow()
    resent, unknown = [], []
    for row in repository.lock_expired(session, now, limit):
        expired = Expired(row.account_id, row.id, Channel(row.channel))
        row.lease_token = None
        row.claimed_until = None
        if row.channel == Channel.EMAIL and row.attempts < MAX_ATTEMPTS:
            # Resend: same bytes, same Message-ID (receivers that dedupe by it hide the copy).
            row.status = SendStatus.PLANNED
            row.planned_for = now
            row.resends += 1
            resent.append(expired)
        else:
            _finish(row, SendStatus.UNKNOWN, now, UNKNOWN_REASON, None)
            unknown.append(expired)
    session.flush()
    return JanitorReport(resent, unknown)


def get(session: Session, account_id: str, send_id: str) -> MessageSend | None:
    return repository.get(session, account_id, send_id)


def by_key(session: Session, account_id: str, key: str) -> MessageSend | None:
    return repository.by_key(session, account_id, key)


def _finish(row: MessageSend, status: SendStatus, now: dt.datetime, reason: str, detail: str | None) -> None:
    row.status = status
    row.reason = reason
    row.detail = detail
    row.finished_at = now


def _released() -> dict[str, object]:
    return {"lease_token": None, "claimed_until": None}
