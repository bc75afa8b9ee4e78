"""The send ledger's queries. Every statement is scoped by the account, except the janitor's
scan of expired leases, which crosses accounts and then updates each row by its full key."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, Table, delete, func, literal, select, true, update
from sqlalchemy.orm import Session

from tidings.db.base import JSONType, UTCDateTime
from tidings.db.chunks import chunked
from tidings.db.dialect import (
    bulk_insert_ignore,
    bulk_update,
    in_values,
    insert_ignore,
    insert_ignore_from_select,
    skip_locked,
    zero_padded,
)
from tidings.delivery.tables import MessageSend, SendingDomain, SendStatus

TABLE: Table = MessageSend.__table__  # type: ignore[assignment]
ID_DIGITS = 10  # an audience of up to 9,999,999,999 profiles in one statement


def insert_if_absent(session: Session, row: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; whether this call made the row."""
    stmt = insert_ignore(session, TABLE, row).returning(TABLE.c.id)
    return session.execute(stmt).first() is not None


def insert_many_if_absent(session: Session, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Many rows, each skipped when its key exists; the keys of the rows written."""
    return bulk_insert_ignore(
        session, TABLE, rows, index_elements=("account_id", "idempotency_key"), returning="idempotency_key"
    )


def ids_by_key(session: Session, account_id: str, keys: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in chunked(list(keys), 500):
        stmt = select(TABLE.c.idempotency_key, TABLE.c.id).where(
            TABLE.c.account_id == account_id, in_values(session, TABLE.c.idempotency_key, chunk)
        )
        found.update({key: row_id for key, row_id in session.execute(stmt)})
    return found


def plan_audience(
    session: Session,
    account_id: str,
    profiles: Select[Any],
    *,
    key_prefix: str,
    channel: str,
    source_kind: str,
    source_id: str,
    domain: str,
    created: dt.datetime,
    planned_for: dt.datetime,
    id_prefix: str,
    context: dict[str, Any] | None = None,
) -> int:
    """INSERT INTO message_sends SELECT ... FROM (the profiles) ON CONFLICT DO NOTHING: a planned
    row per distinct profile, its id `id_prefix` + its number in profile order, its key
    `key_prefix + profile id`, its Message-ID from its id. `profiles` selects the profile id
    and, optionally, a second column: the row's due time (a function of the profile, so that
    the distinct pairs are still one per profile); without it every row is due at
    `planned_for`. `context`, if given, is every row's (e.g. the A/B variation it gets).
    Returns the rows written."""
    chosen = profiles.subquery("audience")
    columns = list(chosen.c)
    chosen_due = [columns[1].label("planned_for")] if len(columns) > 1 else []
    unique = select(columns[0].label("profile_id"), *chosen_due).distinct().subquery("unique_audience")
    # Ids in profile order after a prefix of this statement's own (a ULID's time and randomness):
    # unique, time-ordered like every other id, and written into each index in order (random
    # ids cost PostgreSQL more than twice the time, scattered over the indexes' pages).
    number = func.row_number().over(order_by=unique.c.profile_id)
    made = literal(id_prefix) + zero_padded(session, number, ID_DIGITS)
    due = [unique.c.planned_for] if chosen_due else []
    ids = select(made.label("id"), unique.c.profile_id, *due).subquery("planned")
    row = {
        "account_id": literal(account_id),
        "id": ids.c.id,
        "idempotency_key": literal(key_prefix) + ids.c.profile_id,
        "channel": literal(channel),
        "profile_id": ids.c.profile_id,
        "source_kind": literal(source_kind),
        "source_id": literal(source_id),
        "status": literal(SendStatus.PLANNED.value),
        "attempts": literal(0),
        "resends": literal(0),
        # The row's own id makes its Message-ID: unique, and fixed for every attempt.
        "message_id": literal("<") + func.lower(ids.c.id) + literal(f".{account_id.lower()}@{domain}>"),
        "created": literal(created, UTCDateTime()),
        "planned_for": ids.c.planned_for if chosen_due else literal(planned_for, UTCDateTime()),
    }
    if context is not None:
        row["context"] = literal(context, JSONType)
    # SQLite needs a WHERE in an INSERT ... SELECT ... ON CONFLICT (its parser's ambiguity).
    chosen_rows = select(*row.values()).where(true())
    session.execute(insert_ignore_from_select(session, TABLE, list(row), chosen_rows))
    # Count this statement's rows (they, and only they, carry its creation time): drivers do not
    # all report the row count of an INSERT ... SELECT ... ON CONFLICT.
    written = select(func.count()).where(
        TABLE.c.account_id == account_id,
        TABLE.c.source_kind == source_kind,
        TABLE.c.source_id == source_id,
        TABLE.c.created == created,
    )
    return int(session.execute(written).scalar_one())


def by_key(session: Session, account_id: str, key: str) -> MessageSend | None:
    query = select(MessageSend).where(
        MessageSend.account_id == account_id, MessageSend.idempotency_key == key
    )
    return session.execute(query.execution_options(populate_existing=True)).scalar_one_or_none()


def get(session: Session, account_id: str, send_id: str) -> MessageSend | None:
    query = select(MessageSend).where(MessageSend.account_id == account_id, MessageSend.id == send_id)
    return session.execute(query.execution_options(populate_existing=True)).scalar_one_or_none()


def lock_due(
    session: Session,
    account_id: str | None,
    now: dt.datetime,
    limit: int,
    channels: Sequence[str] | None = None,
) -> list[MessageSend]:
    """Planned rows whose time has come (of one account, or of all; of some channels, or of
    all), oldest first, locked (others skip them)."""
    query = select(MessageSend).where(
        MessageSend.status == SendStatus.PLANNED, MessageSend.planned_for <= now
    )
    if account_id is not None:
        query = query.where(MessageSend.account_id == account_id)
    if channels is not None:
        query = query.where(MessageSend.channel.in_(list(channels)))
    query = query.order_by(MessageSend.planned_for, MessageSend.id).limit(limit)
    query = skip_locked(session, query).execution_options(populate_existing=True)
    return list(session.execute(query).scalars())


def lock_expired(session: Session, now: dt.datetime, limit: int) -> list[MessageSend]:
    """`sending` rows whose lease ran out, in every account, locked (others skip them)."""
    query = (
        select(MessageSend)
        .where(MessageSend.status == SendStatus.SENDING, MessageSend.claimed_until < now)
        .order_by(MessageSend.claimed_until)
        .limit(limit)
    )
    query = skip_locked(session, query).execution_options(populate_existing=True)
    return list(session.execute(query).scalars())


def update_held(session: Session, account_id: str, send_id: str, token: str, values: dict[str, Any]) -> bool:
    """Update a `sending` row only if `token` still holds its lease (the fence)."""
    result = session.execute(
        update(TABLE)
        .where(
            TABLE.c.account_id == account_id,
            TABLE.c.id == send_id,
            TABLE.c.status == SendStatus.SENDING,
            TABLE.c.lease_token == token,
        )
        .values(values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def lock_held(session: Session, account_id: str, held: Sequence[tuple[str, str]]) -> set[str]:
    """Of (send id, lease token) pairs, the sends the token still holds (`sending` with that
    token), locked until the transaction ends."""
    tokens = dict(held)
    query = (
        select(TABLE.c.id, TABLE.c.lease_token)
        .where(TABLE.c.account_id == account_id, TABLE.c.status == SendStatus.SENDING)
        .where(in_values(session, TABLE.c.id, sorted(tokens)))
        .with_for_update()
    )
    return {
        send_id
        for send_id, token in session.execute(query)
        if token is not None and tokens.get(send_id) == token
    }


def update_many(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Update rows found by (account_id, id), each with its own values (the same columns)."""
    bulk_update(session, TABLE, rows, keys=("account_id", "id"))


def update_planned(
    session: Session,
    account_id: str,
    values: dict[str, Any],
    *,
    send_ids: Sequence[str] | None = None,
    source_id: str | None = None,
) -> int:
    """Update the account's `planned` rows among `send_ids` and/or of `source_id`; how many."""
    query = update(TABLE).where(TABLE.c.account_id == account_id, TABLE.c.status == SendStatus.PLANNED)
    if send_ids is not None:
        query = query.where(TABLE.c.id.in_(list(send_ids)))
    if source_id is not None:
        query = query.where(TABLE.c.source_id == source_id)
    result = session.execute(query.values(values))
    return int(result.rowcount)  # type: ignore[attr-defined]


def release_held(
    session: Session,
    account_id: str,
    source_kind: str,
    source_id: str,
    *,
    held_until: dt.datetime,
    planned_for: dt.datetime,
    context: dict[str, Any],
) -> int:
    """The source's `planned` rows held at `held_until`: due at `planned_for`, with `context`."""
    result = session.execute(
        update(TABLE)
        .where(
            TABLE.c.account_id == account_id,
            TABLE.c.source_kind == source_kind,
            TABLE.c.source_id == source_id,
            TABLE.c.status == SendStatus.PLANNED,
            TABLE.c.planned_for == held_until,
        )
        .values(planned_for=planned_for, context=context)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def delete_unattempted(session: Session, account_id: str, source_kind: str, source_id: str) -> int:
    """Delete the source's `planned` rows never claimed (no attempt, nothing rendered); how many."""
    result = session.execute(
        delete(TABLE).where(
            TABLE.c.account_id == account_id,
            TABLE.c.source_kind == source_kind,
            TABLE.c.source_id == source_id,
            TABLE.c.status == SendStatus.PLANNED,
            TABLE.c.attempts == 0,
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def source_counts(
    session: Session, account_id: str, source_kind: str, source_id: str
) -> list[tuple[str, str | None, int]]:
    """(status, reason, rows) of one source's rows."""
    query = (
        select(TABLE.c.status, TABLE.c.reason, func.count())
        .where(
            TABLE.c.account_id == account_id,
            TABLE.c.source_kind == source_kind,
            TABLE.c.source_id == source_id,
        )
        .group_by(TABLE.c.status, TABLE.c.reason)
    )
    return [(str(status), reason, int(count)) for status, reason, count in session.execute(query)]


def source_pending(
    session: Session, account_id: str, source_kind: str, source_id: str
) -> tuple[bool, dt.datetime | None]:
    """Whether any of the source's rows is still `planned` or `sending`, and the earliest due
    time of its `planned` rows."""
    base = (
        TABLE.c.account_id == account_id,
        TABLE.c.source_kind == source_kind,
        TABLE.c.source_id == source_id,
    )
    sending = session.execute(
        select(TABLE.c.id).where(*base, TABLE.c.status == SendStatus.SENDING).limit(1)
    ).first()
    earliest = session.execute(
        select(func.min(TABLE.c.planned_for)).where(*base, TABLE.c.status == SendStatus.PLANNED)
    ).scalar()
    if earliest is not None and earliest.tzinfo is None:
        earliest = earliest.replace(tzinfo=dt.UTC)
    return (sending is not None or earliest is not None), earliest


def sends_query(account_id: str) -> Select[Any]:
    return select(MessageSend).where(MessageSend.account_id == account_id)


# Bounces and complaints: a report names its send by Message-ID or send id, without an account;
# the row found decides the account.
def sends_by_message_id(session: Session, message_id: str) -> list[MessageSend]:
    query = select(MessageSend).where(MessageSend.message_id == message_id).limit(2)
    return list(session.execute(query.execution_options(populate_existing=True)).scalars())


def sends_by_id(session: Session, send_id: str) -> list[MessageSend]:
    query = select(MessageSend).where(MessageSend.id == send_id).limit(2)
    return list(session.execute(query.execution_options(populate_existing=True)).scalars())


def lock(session: Session, account_id: str, send_id: str) -> MessageSend | None:
    """The send, locked until the transaction ends: two reports about it apply one at a time."""
    query = select(MessageSend).where(MessageSend.account_id == account_id, MessageSend.id == send_id)
    query = query.with_for_update().execution_options(populate_existing=True)
    return session.execute(query).scalar_one_or_none()


ATTEMPTED = (SendStatus.SENT, SendStatus.FAILED, SendStatus.UNKNOWN)


def latest_email_bounces(session: Session, send: MessageSend, limit: int) -> list[str | None]:
    """The bounce types of the profile's last `limit` attempted email sends, newest first, up to
    and including `send` (a send after it says nothing about this streak)."""
    query = select(MessageSend.bounce_type).where(
        MessageSend.account_id == send.account_id,
        MessageSend.profile_id == send.profile_id,
        MessageSend.channel == "email",
        MessageSend.status.in_(ATTEMPTED),
        MessageSend.sending_at.is_not(None),
    )
    if send.sending_at is not None:
        query = query.where(MessageSend.sending_at <= send.sending_at)
    query = query.order_by(MessageSend.sending_at.desc(), MessageSend.id.desc()).limit(limit)
    return list(session.execute(query).scalars())


# Sending domains (DKIM keys)


def sending_domains(session: Session, account_id: str, domain: str | None = None) -> list[SendingDomain]:
    query = select(SendingDomain).where(SendingDomain.account_id == account_id)
    if domain is not None:
        query = query.where(SendingDomain.domain == domain)
    return list(session.execute(query.order_by(SendingDomain.domain)).scalars())


def sending_domains_among(session: Session, account_id: str, domains: Sequence[str]) -> list[SendingDomain]:
    query = select(SendingDomain).where(
        SendingDomain.account_id == account_id, SendingDomain.domain.in_(list(domains))
    )
    return list(session.execute(query).scalars())


def save_sending_domain(
    session: Session, account_id: str, domain: str, selector: str, private_key_pem: str
) -> None:
    """Insert the account's domain, or replace its selector and key."""
    row = session.get(SendingDomain, (account_id, domain))
    if row is None:
        session.add(
            SendingDomain(
                account_id=account_id, domain=domain, selector=selector, private_key_pem=private_key_pem
            )
        )
    else:
        row.selector = selector
        row.private_key_pem = private_key_pem
    session.flush()
