"""A profile's sends through a merge, an unmerge and a privacy deletion.

A merge moves the source's ledger rows to the destination (what was planned for the person
goes to the profile they became); the record keeps the ids, so an unmerge moves exactly those
back. A privacy deletion skips what was still planned ("Person Deleted") and drops the stored
rendering of every settled send (it holds the person's name and address); a send in flight
keeps its bytes until it settles, as its retry must be byte-identical. The rows stay, so
reports keep their counts; the bounce and complaint reports received about them go (they quote
the person's address and the message).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.delivery.service import SkipReason
from tidings.delivery.tables import InboundReport, MessageSend, SendStatus
from tidings.profiles.participants import ProfileParticipant


def move(
    session: Session, account_id: str, source_id: str, destination_id: str, merge_id: str
) -> dict[str, Any]:
    mine = (MessageSend.account_id == account_id, MessageSend.profile_id == source_id)
    ids = list(session.execute(select(MessageSend.id).where(*mine)).scalars())
    if ids:
        session.execute(update(MessageSend).where(*mine).values(profile_id=destination_id))
    return {"sends": ids}


def restore(
    session: Session,
    account_id: str,
    source_id: str,
    destination_id: str,
    record: dict[str, Any],
    merge_id: str,
) -> None:
    ids = list(record.get("sends") or [])
    if ids:
        session.execute(
            update(MessageSend)
            .where(
                MessageSend.account_id == account_id,
                MessageSend.profile_id == destination_id,
                MessageSend.id.in_(ids),
            )
            .values(profile_id=source_id)
        )


def forget(session: Session, account_id: str, profile_id: str) -> None:
    theirs = (MessageSend.account_id == account_id, MessageSend.profile_id == profile_id)
    session.execute(
        update(MessageSend)
        .where(*theirs, MessageSend.status == SendStatus.PLANNED)
        .values(
            status=SendStatus.SKIPPED,
            reason=SkipReason.PERSON_DELETED.value,
            finished_at=utcnow(),
            lease_token=None,
            claimed_until=None,
        )
    )
    session.execute(
        update(MessageSend).where(*theirs, MessageSend.status != SendStatus.SENDING).values(content=None)
    )
    session.execute(
        delete(InboundReport).where(
            InboundReport.send_account_id == account_id,
            InboundReport.send_id.in_(select(MessageSend.id).where(*theirs)),
        )
    )


SENDS = ProfileParticipant("sends", move, restore, forget)
