"""Coupons and coupon codes: what the endpoints do, and the handing out of codes at send time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tidings.coupons import repository
from tidings.coupons.repository import ASSIGNED, UNASSIGNED
from tidings.coupons.schemas import MAX_BULK, CodeCreateData, CouponCreateAttributes
from tidings.coupons.tables import Coupon, CouponCode, CouponCodeJob
from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.jobs import queue
from tidings.jsonapi.errors import APIError, Conflict, ErrorList, InvalidInput, NotFound, Throttled
from tidings.jsonapi.validation import validation_errors

BULK_JOB = "coupons.bulk_create_codes"
MAX_QUEUED_JOBS = 100  # the spec's figure
DEFAULT_LIFETIME = dt.timedelta(days=365)  # "If not specified or set to null, ... 1 year"
JOB_KEPT = dt.timedelta(days=7)  # a finished job's expires_at [INF]
CODE_POINTER = "/data/relationships/coupon/data/id"


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def code_id(coupon_id: str, unique_code: str) -> str:
    return f"{coupon_id}-{unique_code}"


# ---------------------------------------------------------------------------- coupons


def get_coupon(session: Session, account_id: str, coupon_id: str) -> Coupon:
    found = session.get(Coupon, (account_id, coupon_id))
    if found is None:
        raise NotFound(f"A coupon with id {coupon_id} does not exist.")
    return found


def create_coupon(session: Session, account_id: str, attributes: CouponCreateAttributes) -> Coupon:
    if session.get(Coupon, (account_id, attributes.external_id)) is not None:
        raise Conflict(
            f"A coupon with external_id {attributes.external_id} already exists.",
            pointer="/data/attributes/external_id",
            code="duplicate_coupon",
        )
    now = utcnow()
    coupon = Coupon(
        account_id=account_id,
        id=attributes.external_id,
        description=attributes.description,
        monitor_configuration=attributes.monitor_configuration,
        created_at=now,
        updated_at=now,
    )
    session.add(coupon)
    session.flush()
    return coupon


def update_coupon(
    session: Session, account_id: str, coupon_id: str, body_id: str, changes: dict[str, Any]
) -> Coupon:
    if body_id != coupon_id:
        raise Conflict("The id in the body does not match the id in the URL.", pointer="/data/id")
    coupon = get_coupon(session, account_id, coupon_id)
    for name in ("description", "monitor_configuration"):
        if name in changes:
            setattr(coupon, name, changes[name])
    coupon.updated_at = utcnow()
    session.flush()
    return coupon


def delete_coupon(session: Session, account_id: str, coupon_id: str) -> None:
    coupon = get_coupon(session, account_id, coupon_id)
    session.delete(coupon)  # its codes go with it (foreign key, on delete cascade)
    session.flush()


# ---------------------------------------------------------------------------- codes


def get_code(session: Session, account_id: str, code_id_: str) -> CouponCode:
    found = repository.get_code(session, account_id, code_id_)
    if found is None:
        raise NotFound(f"A coupon code with id {code_id_} does not exist.")
    return found


def _expiry(value: dt.datetime | None, now: dt.datetime, pointer: str) -> dt.datetime:
    if value is None:
        return now + DEFAULT_LIFETIME
    value = _aware(value)
    if value <= now:
        raise InvalidInput("expires_at must be in the future.", pointer=pointer)
    return value


def create_code(
    session: Session, account_id: str, data: CodeCreateData, *, base: str = "/data"
) -> CouponCode:
    coupon_id = data.relationships.coupon.data.id
    if session.get(Coupon, (account_id, coupon_id)) is None:
        raise NotFound(
            f"A coupon with id {coupon_id} does not exist.", pointer=f"{base}/relationships/coupon/data/id"
        )
    now = utcnow()
    new_id = code_id(coupon_id, data.attributes.unique_code)
    if repository.get_code(session, account_id, new_id) is not None:
        raise Conflict(
            f"The code {data.attributes.unique_code} already exists for coupon {coupon_id}.",
            pointer=f"{base}/attributes/unique_code",
            code="duplicate_coupon_code",
        )
    code = CouponCode(
        account_id=account_id,
        id=new_id,
        coupon_id=coupon_id,
        unique_code=data.attributes.unique_code,
        status=UNASSIGNED,
        expires_at=_expiry(data.attributes.expires_at, now, f"{base}/attributes/expires_at"),
        created_at=now,
    )
    session.add(code)
    session.flush()
    return code


def update_code(
    session: Session, account_id: str, code_id_: str, body_id: str, changes: dict[str, Any]
) -> CouponCode:
    if body_id != code_id_:
        raise Conflict("The id in the body does not match the id in the URL.", pointer="/data/id")
    code = get_code(session, account_id, code_id_)
    status = changes.get("status")
    if status is not None and status != code.status:
        if status == ASSIGNED and code.profile_id is None:
            raise InvalidInput(
                "A code is assigned to a profile when a message hands it out, not by an update.",
                pointer="/data/attributes/status",
            )
        if status == UNASSIGNED and code.profile_id is not None:
            raise InvalidInput(
                "A code that was given to a profile cannot go back to the pool.",
                pointer="/data/attributes/status",
            )
        code.status = status
    if "expires_at" in changes:
        code.expires_at = _expiry(changes["expires_at"], utcnow(), "/data/attributes/expires_at")
    session.flush()
    return code


def delete_code(session: Session, account_id: str, code_id_: str) -> None:
    code = get_code(session, account_id, code_id_)
    if code.profile_id is not None:
        raise Conflict(f"The coupon code {code_id_} is assigned to a profile and cannot be deleted.")
    session.delete(code)
    session.flush()


def require_code_scope(filter_text: str | None) -> None:
    """get_coupon_codes: "A coupon/coupons or a profile/profiles must be provided as required
    filter params"."""
    if not filter_text or ("coupon.id" not in filter_text and "profile.id" not in filter_text):
        raise InvalidInput(
            "A filter on coupon.id or profile.id is required, e.g. equals(coupon.id,'10OFF').",
            parameter="filter",
        )


# ---------------------------------------------------------------------------- bulk jobs


def create_bulk_job(session: Session, account_id: str, entries: list[dict[str, Any]]) -> CouponCodeJob:
    """Check every entry (each error with its index), store the job, enqueue its work: 202."""
    base = "/data/attributes/coupon-codes/data"
    if not entries or len(entries) > MAX_BULK:
        raise InvalidInput(f"A job creates between 1 and {MAX_BULK} coupon codes.", pointer=base)
    adapter = TypeAdapter(CodeCreateData)
    errors: list[APIError] = []
    for index, entry in enumerate(entries):
        try:
            adapter.validate_python(entry)
        except ValidationError as exc:
            located = [
                {**e, "loc": ("body", *base.strip("/").split("/"), index, *e["loc"])} for e in exc.errors()
            ]
            errors += validation_errors(located)
    if errors:
        raise ErrorList(errors)
    queued = session.execute(
        select(func.count()).where(
            CouponCodeJob.account_id == account_id, CouponCodeJob.status.in_(["queued", "processing"])
        )
    ).scalar_one()
    if queued >= MAX_QUEUED_JOBS:
        raise Throttled(f"At most {MAX_QUEUED_JOBS} coupon code jobs may wait at once; try again later.")
    job = CouponCodeJob(
        account_id=account_id,
        id=ulid(),
        status="queued",
        total_count=len(entries),
        entries=entries,
        code_ids=[],
        errors=[],
        created_at=utcnow(),
    )
    session.add(job)
    session.flush()
    queue.enqueue(session, BULK_JOB, {"job_id": job.id}, account_id=account_id)
    return job


def get_bulk_job(session: Session, account_id: str, job_id: str) -> CouponCodeJob:
    found = session.get(CouponCodeJob, (account_id, job_id))
    if found is None:
        raise NotFound(f"A coupon code bulk create job with id {job_id} does not exist.")
    return found


def apply_bulk_job(session: Session, account_id: str, job_id: str) -> None:
    """Create each code in a savepoint, so that one duplicate fails alone with its pointer."""
    job = session.get(CouponCodeJob, (account_id, job_id))
    if job is None or job.status not in ("queued", "processing"):
        return
    adapter = TypeAdapter(CodeCreateData)
    created: list[str] = []
    errors: list[dict[str, Any]] = []
    for index, entry in enumerate(job.entries):
        base = f"/data/attributes/coupon-codes/data/{index}"
        try:
            with session.begin_nested():
                created.append(create_code(session, account_id, adapter.validate_python(entry), base=base).id)
        except APIError as error:
            body = error.as_error_object()
            errors.append(
                {
                    "id": body["id"],
                    "code": body["code"],
                    "title": body["title"],
                    "detail": body["detail"],
                    "source": {"pointer": error.pointer or base},
                }
            )
    now = utcnow()
    job.code_ids = created
    job.errors = errors
    job.completed_count = len(created)
    job.failed_count = len(errors)
    job.status = "complete"
    job.completed_at = now
    job.expires_at = now + JOB_KEPT
    session.flush()


# ---------------------------------------------------------------------------- send time


class CouponsExhausted(Exception):
    def __init__(self, coupon_id: str) -> None:
        super().__init__(f"Coupon {coupon_id} has no unassigned, unexpired code left.")
        self.coupon_id = coupon_id


class UnknownCoupon(Exception):
    pass


def hand_out(
    session: Session, account_id: str, coupon_id: str, profile_id: str, key: str, now: dt.datetime
) -> str:
    """The code of `coupon_id` for the message `key` (a send id): the one it already has, or the
    oldest free one, assigned to the profile in the caller's transaction. Exactly one code per
    message and coupon however often the message renders."""
    held = repository.code_for_key(session, account_id, coupon_id, key)
    if held is not None:
        return held.unique_code
    if session.get(Coupon, (account_id, coupon_id)) is None:
        raise UnknownCoupon(coupon_id)
    code = repository.next_free_code(session, account_id, coupon_id, now)
    if code is None:
        raise CouponsExhausted(coupon_id)
    code.status = ASSIGNED
    code.profile_id = profile_id
    code.assigned_key = key
    code.assigned_at = now
    session.flush()
    return code.unique_code


def give_back(session: Session, account_id: str, key: str) -> int:
    """The message `key` was not sent after all (skipped): its codes return to the pool."""
    return repository.release_key(session, account_id, key)
