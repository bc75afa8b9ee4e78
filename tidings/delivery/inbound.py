"""The intake of bounces and complaints: store first, process in a job.

Every intake (the SMTP listener, a mailbox file, a provider's webhook) stores what it received
as an `InboundReport` and enqueues `delivery.process_bounce` in the same transaction, and only
then acknowledges it (250, or 200): nothing acknowledged is lost. The job finds the send the
report is about and applies its effects (delivery/bounces.py).

Finding the send: a VERP return path (delivery/verp.py) names it, HMAC-checked; a return path
that fails the check makes the report ignored (forged). Without one, the original's Message-ID
or its `X-Tidings-Send-Id` (or what a provider echoes of them) name it; when they name two
different sends the report is ignored. A report names no account: the send found decides it,
and only that send's account is touched. Anything else is recorded as the report's outcome and
logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.dialect import insert_ignore
from tidings.db.ids import ulid
from tidings.delivery import bounces, dsn, repository, verp
from tidings.delivery.dsn import BounceType, RecipientStatus, ReportKind
from tidings.delivery.tables import InboundReport, MessageSend, SendStatus
from tidings.jobs.queue import enqueue
from tidings.jobs.tables import SYSTEM_ACCOUNT

PROCESS_JOB = "delivery.process_bounce"
ENVELOPE_CHARS = 1024
# A report can be about a send in these states (`sending`: the relay took it and its report came
# back before the worker recorded the outcome); planned, skipped or cancelled sends never left.
HEARD_FROM = {SendStatus.SENDING, SendStatus.SENT, SendStatus.FAILED, SendStatus.UNKNOWN}
RETENTION = dt.timedelta(days=30)  # processed reports are kept this long, to look into
log = structlog.get_logger("tidings.delivery.inbound")


def store_message(
    session: Session, source: str, raw: bytes, envelope_to: list[str] | None = None
) -> str | None:
    """Store a received message and enqueue its processing; None when the very same bytes were
    stored before (a retried delivery, a mailbox imported twice)."""
    dedup = "msg:" + hashlib.sha256(raw).hexdigest()
    return _store(session, source, dedup, content=raw, envelope_to=_envelope(envelope_to or []))


def _envelope(addresses: list[str]) -> str | None:
    """The recipients as stored: whole addresses, as many as fit the column."""
    kept: list[str] = []
    for address in addresses:
        if len(",".join([*kept, address])) > ENVELOPE_CHARS:
            break
        kept.append(address)
    return ",".join(kept) or None


def store_event(session: Session, source: str, event: dict[str, Any], dedup_key: str) -> str | None:
    """Store one provider webhook event (normalised, delivery/webhooks.py); None if seen before."""
    return _store(session, source, f"{source}:{dedup_key}"[:255], payload=event)


def _store(session: Session, source: str, dedup: str, **values: Any) -> str | None:
    report_id = ulid()
    row = {
        "account_id": SYSTEM_ACCOUNT,
        "id": report_id,
        "source": source,
        "dedup_key": dedup,
        "envelope_to": values.get("envelope_to"),
        "content": values.get("content"),
        "payload": values.get("payload"),
        "received": utcnow(),
    }
    table = InboundReport.__table__
    inserted = session.execute(insert_ignore(session, table, row).returning(table.c.id)).first()  # type: ignore[arg-type]
    if inserted is None:
        return None
    enqueue(session, PROCESS_JOB, {"report": report_id}, dedup_key=f"bounce:{report_id}")
    return report_id


def prune(session: Session, *, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Delete processed reports past RETENTION (their effects stay); how many."""
    cutoff = (now or utcnow()) - RETENTION
    old = select(InboundReport.id).where(InboundReport.processed_at < cutoff).limit(limit)
    ids = list(session.execute(old).scalars())
    if ids:
        session.execute(delete(InboundReport).where(InboundReport.id.in_(ids)))
    return len(ids)


@dataclass(frozen=True)
class Outcome:
    outcome: str
    send: MessageSend | None = None


def process(session: Session, report_id: str, secret: str) -> str:
    """Apply a stored report once; returns its outcome (also stored on the report)."""
    report = session.get(InboundReport, (SYSTEM_ACCOUNT, report_id))
    if report is None:
        return "missing"
    if report.processed_at is not None:
        return report.outcome or "done"
    if report.content is not None:
        result = _apply_message(session, report, secret)
    else:
        result = _apply_event(session, report.payload or {}, secret)
    report.processed_at = utcnow()
    report.outcome = result.outcome[:64]
    if result.send is not None:
        report.send_account_id, report.send_id = result.send.account_id, result.send.id
    session.flush()
    level = log.info if result.send is not None else log.warning
    level(
        "delivery.inbound_report",
        report=report.id,
        source=report.source,
        outcome=result.outcome,
        account=report.send_account_id,
        send=report.send_id,
    )
    return result.outcome


def _apply_message(session: Session, report: InboundReport, secret: str) -> Outcome:
    try:
        parsed = dsn.parse(report.content or b"")
    except Exception:  # a message the email package cannot take apart: kept, not retried
        log.exception("delivery.unreadable_report", report=report.id)
        return Outcome("unreadable message")
    if parsed.kind is ReportKind.NONE:
        return Outcome(f"not a report ({parsed.feedback_type})" if parsed.feedback_type else "not a report")
    envelope = [a for a in (report.envelope_to or "").split(",") if a]
    found = find_send(
        session,
        addresses=envelope + parsed.addresses,
        message_ids=parsed.message_ids,
        send_ids=parsed.send_ids,
        secret=secret,
    )
    if found.send is None:
        return found
    send = found.send
    if parsed.kind is ReportKind.COMPLAINT:
        changed = bounces.record_complaint(session, send)
        return Outcome("complaint" if changed else "complaint (already recorded)", send)
    block = _about(send, parsed.recipients)
    bounce_type = block.bounce_type if block is not None else None
    if block is None or bounce_type is None:
        return Outcome("not a bounce of this send", send)
    changed = bounces.record_bounce(session, send, bounce_type, status=block.status, detail=block.diagnostic)
    return Outcome(f"{bounce_type.value} bounce" + ("" if changed else " (already recorded)"), send)


def _apply_event(session: Session, event: dict[str, Any], secret: str) -> Outcome:
    found = find_send(
        session,
        addresses=[],
        message_ids=[event["message_id"]] if event.get("message_id") else [],
        send_ids=[event["send_id"]] if event.get("send_id") else [],
        secret=secret,
    )
    if found.send is None:
        return found
    send = found.send
    kind = event.get("event")
    if kind == "complaint":
        changed = bounces.record_complaint(session, send)
    elif kind == "dropped":
        changed = bounces.record_dropped(session, send, detail=event.get("detail"))
    elif kind == "bounce":
        bounce_type = BounceType(event.get("bounce_type") or "hard")
        changed = bounces.record_bounce(
            session, send, bounce_type, status=event.get("status"), detail=event.get("detail")
        )
        kind = f"{bounce_type.value} bounce"
    else:
        return Outcome(f"ignored event {kind}", send)
    return Outcome(f"{kind}" + ("" if changed else " (already recorded)"), send)


def find_send(
    session: Session, *, addresses: list[str], message_ids: list[str], send_ids: list[str], secret: str
) -> Outcome:
    """The send a report is about, by its VERP return path, else its Message-ID or send id."""
    returns = [a for a in addresses if verp.is_return_path(a)]
    if returns:
        for address in returns:
            named = verp.parse_return_path(address, secret)
            if named is not None:
                return _attempted(repository.lock(session, *named))
        return Outcome("forged return path")
    candidates: dict[tuple[str, str], MessageSend] = {}
    for message_id in message_ids:
        for send in repository.sends_by_message_id(session, message_id):
            candidates[(send.account_id, send.id)] = send
    for send_id in send_ids:
        for send in repository.sends_by_id(session, send_id.strip().upper()):
            candidates[(send.account_id, send.id)] = send
    if not candidates:
        return Outcome("unknown send")
    if len(candidates) > 1:
        return Outcome("ambiguous send")
    [(account_id, send_id)] = candidates
    return _attempted(repository.lock(session, account_id, send_id))


def _attempted(send: MessageSend | None) -> Outcome:
    """Only a send that went out (or is going out) can bounce or be complained about."""
    if send is None:
        return Outcome("unknown send")
    if send.status not in HEARD_FROM:
        return Outcome(f"send not attempted ({send.status})")
    return Outcome("found", send)


def _about(send: MessageSend, recipients: list[RecipientStatus]) -> RecipientStatus | None:
    """The recipient block that reports on this send: the one for its address (a multi-recipient
    DSN also reports on others), else, when none names it (an alias expanded), the worst failure."""
    address = (send.recipient or "").lower()
    mine = [r for r in recipients if address and address in (r.recipient, r.original_recipient)]
    pool = mine or [r for r in recipients if r.recipient is None or not address] or recipients
    failed = [r for r in pool if r.bounce_type is not None]
    if not failed:
        return None
    return next((r for r in failed if r.bounce_type is BounceType.HARD), failed[0])
