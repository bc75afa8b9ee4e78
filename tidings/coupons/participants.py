"""Coupon codes given to a profile, through a merge, an unmerge and a privacy deletion."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tidings.coupons import repository
from tidings.profiles.participants import ProfileParticipant


def move(
    session: Session, account_id: str, source_id: str, destination_id: str, merge_id: str
) -> dict[str, Any]:
    return {"codes": repository.move_profile(session, account_id, source_id, destination_id)}


def restore(
    session: Session,
    account_id: str,
    source_id: str,
    destination_id: str,
    record: dict[str, Any],
    merge_id: str,
) -> None:
    repository.set_profile(session, account_id, list(record.get("codes") or []), source_id)


def delete(session: Session, account_id: str, profile_id: str) -> None:
    # The code stays spent (it may have been used at checkout); only the link to the person goes.
    repository.forget_profile(session, account_id, profile_id)


COUPON_CODES = ProfileParticipant("coupon_codes", move, restore, delete)
