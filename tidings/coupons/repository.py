"""Queries on coupons and coupon codes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from tidings.coupons.tables import Coupon, CouponCode, CouponCodeJob
from tidings.db.dialect import skip_locked
from tidings.jsonapi.filters import FilterField

CODE_FILTERS: dict[str, FilterField] = {
    "expires_at": FilterField(CouponCode.expires_at, kind="datetime"),
    "status": FilterField(CouponCode.status),
    "coupon.id": FilterField(CouponCode.coupon_id),
    "profile.id": FilterField(CouponCode.profile_id),
}
JOB_FILTERS: dict[str, FilterField] = {"status": FilterField(CouponCodeJob.status)}
UNASSIGNED, ASSIGNED = "UNASSIGNED", "ASSIGNED_TO_PROFILE"


def coupons_query(account_id: str) -> Select[Any]:
    return select(Coupon).where(Coupon.account_id == account_id)


def codes_query(account_id: str) -> Select[Any]:
    return select(CouponCode).where(CouponCode.account_id == account_id)


def jobs_query(account_id: str) -> Select[Any]:
    return select(CouponCodeJob).where(CouponCodeJob.account_id == account_id)


def get_code(session: Session, account_id: str, code_id: str) -> CouponCode | None:
    return session.get(CouponCode, (account_id, code_id))


def existing_codes(session: Session, account_id: str, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    stmt = select(CouponCode.id).where(CouponCode.account_id == account_id, CouponCode.id.in_(ids))
    return set(session.execute(stmt).scalars())


def existing_coupons(session: Session, account_id: str, ids: set[str]) -> set[str]:
    if not ids:
        return set()
    stmt = select(Coupon.id).where(Coupon.account_id == account_id, Coupon.id.in_(ids))
    return set(session.execute(stmt).scalars())


def code_for_key(session: Session, account_id: str, coupon_id: str, key: str) -> CouponCode | None:
    stmt = select(CouponCode).where(
        CouponCode.account_id == account_id, CouponCode.assigned_key == key, CouponCode.coupon_id == coupon_id
    )
    return session.execute(stmt).scalars().first()


def next_free_code(session: Session, account_id: str, coupon_id: str, now: dt.datetime) -> CouponCode | None:
    """The oldest unassigned, unexpired code, locked so that no concurrent send takes it too."""
    stmt = (
        select(CouponCode)
        .where(
            CouponCode.account_id == account_id,
            CouponCode.coupon_id == coupon_id,
            CouponCode.status == UNASSIGNED,
            CouponCode.expires_at > now,
        )
        .order_by(CouponCode.created_at, CouponCode.id)
        .limit(1)
    )
    return session.execute(skip_locked(session, stmt)).scalars().first()


def release_key(session: Session, account_id: str, key: str) -> int:
    """Give back the codes a message took (it was skipped after they were handed out)."""
    stmt = (
        update(CouponCode)
        .where(
            CouponCode.account_id == account_id, CouponCode.assigned_key == key, CouponCode.status == ASSIGNED
        )
        .values(status=UNASSIGNED, profile_id=None, assigned_key=None, assigned_at=None)
    )
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def unassigned_count(session: Session, account_id: str, coupon_id: str, now: dt.datetime) -> int:
    stmt = select(func.count()).where(
        CouponCode.account_id == account_id,
        CouponCode.coupon_id == coupon_id,
        CouponCode.status == UNASSIGNED,
        CouponCode.expires_at > now,
    )
    return int(session.execute(stmt).scalar_one())


def move_profile(session: Session, account_id: str, source_id: str, destination_id: str) -> list[str]:
    ids = list(
        session.execute(
            select(CouponCode.id).where(
                CouponCode.account_id == account_id, CouponCode.profile_id == source_id
            )
        ).scalars()
    )
    if ids:
        session.execute(
            update(CouponCode)
            .where(CouponCode.account_id == account_id, CouponCode.id.in_(ids))
            .values(profile_id=destination_id)
        )
    return ids


def set_profile(session: Session, account_id: str, ids: list[str], profile_id: str | None) -> None:
    if ids:
        session.execute(
            update(CouponCode)
            .where(CouponCode.account_id == account_id, CouponCode.id.in_(ids))
            .values(profile_id=profile_id)
        )


def forget_profile(session: Session, account_id: str, profile_id: str) -> None:
    session.execute(
        update(CouponCode)
        .where(CouponCode.account_id == account_id, CouponCode.profile_id == profile_id)
        .values(profile_id=None)
    )
