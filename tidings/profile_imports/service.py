"""Bulk profile import: checking a profile, applying a batch, and the job that applies a request.

`check_profile` and `apply_profiles` are the one path of every imported profile (the API job
and the CSV import). Klaviyo's rules for bulk imports: an upsert by the profile's identifiers
(or `id`), at most 10,000 profiles per request and 100 KB per profile, `null` never clears a
field (only values are applied), and the profiles may be added to lists without any change to
their consent.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.jobs import queue
from tidings.jsonapi.errors import APIError, ErrorList, InvalidInput, NotFound
from tidings.lists import service as lists
from tidings.profile_imports import repository
from tidings.profile_imports.tables import COMPLETE, PROCESSING, QUEUED, ProfileImportJob
from tidings.profiles.identity import ProfileInput, Source, resolve_batch
from tidings.profiles.service import check_input

MAX_PROFILES = 10_000
MAX_PROFILE_BYTES = 100_000
MAX_LISTS = 100
CHUNK = 1000  # profiles applied by one run of the job (one transaction)
EXPIRES_AFTER = dt.timedelta(days=30)  # [INF] Klaviyo does not say; jobs are deleted after this
PROFILES = "/data/attributes/profiles/data"
LISTS = "/data/relationships/lists/data"
JOB = "profiles.import"


@dataclass
class Checked:
    """A profile ready to apply. `position` is its index in the request (or its CSV line)."""

    position: int
    item: ProfileInput
    original: dict[str, Any]


@dataclass
class Rejected:
    """A profile that cannot be imported: one import error."""

    position: int
    code: str
    title: str
    detail: str
    pointer: str
    original: dict[str, Any] | None = None


@dataclass
class Applied:
    profiles: list[tuple[int, str]] = field(default_factory=list)  # (position, profile id)
    rejected: list[Rejected] = field(default_factory=list)
    created: int = 0


def _values_only(attributes: dict[str, Any]) -> dict[str, Any]:
    """Klaviyo's bulk import never clears: null attributes, location fields and properties are left out."""
    out: dict[str, Any] = {}
    for name, value in attributes.items():
        if value is None:
            continue
        if name in ("location", "properties") and isinstance(value, dict):
            value = {k: v for k, v in value.items() if v is not None}
            if not value:
                continue
        out[name] = value
    return out


def check_profile(
    position: int, profile: dict[str, Any], *, pointer: str, size: int | None = None
) -> Checked | Rejected:
    """Check one profile resource as sent (`{"type", "id", "attributes", "meta"}`).

    `pointer` is the profile's place in the request; `size` its size in bytes when known."""
    if size is not None and size > MAX_PROFILE_BYTES:
        return Rejected(
            position,
            "invalid",
            "Invalid input.",
            f"A profile may be at most {MAX_PROFILE_BYTES // 1000} KB; this one is {size // 1000} KB.",
            pointer,
            profile,
        )
    attributes = _values_only(profile.get("attributes") or {})
    item, _ignored, errors = check_input(
        attributes,
        profile_id=profile.get("id"),
        meta=profile.get("meta"),
        partial=False,
        pointer=f"{pointer}/attributes",
    )
    if errors:
        return _rejected(position, errors, profile)
    if not item.has_identifier():
        return Rejected(
            position,
            "invalid",
            "Invalid input.",
            "A profile needs at least one identifier: email, phone_number, external_id or id.",
            f"{pointer}/attributes",
            profile,
        )
    return Checked(position, item, profile)


def _rejected(position: int, errors: list[APIError], profile: dict[str, Any]) -> Rejected:
    first = errors[0]
    pointer = first.pointer or PROFILES
    detail = "; ".join(e.detail for e in errors)
    return Rejected(position, first.code, first.title, detail, pointer, profile)


def apply_profiles(
    session: Session,
    account_id: str,
    checked: list[Checked],
    *,
    list_ids: list[str],
    pointer_of: Callable[[int], str],
) -> Applied:
    """Upsert checked profiles (identity resolution, source IMPORT) and join them to the lists.

    A profile whose `id` is unknown, or whose identifiers belong to several profiles, is
    rejected; the others are applied. `pointer_of(position)` is where a profile sat in the request.
    """
    out = Applied()
    if not checked:
        return out
    results = resolve_batch(session, account_id, [c.item for c in checked], source=Source.IMPORT)
    for entry, result in zip(checked, results, strict=True):
        where = pointer_of(entry.position)
        if result.not_found:
            out.rejected.append(
                Rejected(
                    entry.position,
                    "not_found",
                    "Not found.",
                    f"A profile with id {entry.item.id} does not exist.",
                    f"{where}/id",
                    entry.original,
                )
            )
        elif result.conflict is not None:
            conflict = result.conflict
            out.rejected.append(
                Rejected(
                    entry.position,
                    "duplicate_profile",
                    "Conflict.",
                    f"The {conflict.field} {conflict.value!r} belongs to another profile "
                    f"({conflict.profile_id}) than the profile's other identifiers.",
                    f"{where}/attributes/{conflict.field}",
                    entry.original,
                )
            )
        elif result.error or result.profile_id is None:
            detail = result.error or "The profile could not be resolved."
            pointer = f"{where}/attributes/properties"
            out.rejected.append(
                Rejected(entry.position, "invalid", "Invalid input.", detail, pointer, entry.original)
            )
        else:
            out.profiles.append((entry.position, result.profile_id))
            out.created += int(result.created)
    profile_ids = list(dict.fromkeys(pid for _position, pid in out.profiles))
    if profile_ids and list_ids:
        # A list deleted since the request was accepted is skipped.
        for list_id in lists.lists_by_ids(session, account_id, list_ids):
            lists.join_profiles(session, account_id, list_id, profile_ids)
    return out


# ----------------------------------------------------------------------------- the API job


def create_job(
    session: Session, account_id: str, profiles: list[dict[str, Any]], list_ids: list[str]
) -> ProfileImportJob:
    """Accept a bulk import: check the request, store the job and its profiles, enqueue the work."""
    if not profiles:
        raise InvalidInput("Give at least one profile.", pointer=PROFILES)
    if len(profiles) > MAX_PROFILES:
        raise InvalidInput(
            f"At most {MAX_PROFILES:,} profiles per request; got {len(profiles):,}.", pointer=PROFILES
        )
    if len(list_ids) > MAX_LISTS:
        raise InvalidInput(f"At most {MAX_LISTS} lists per request.", pointer=LISTS)
    known = lists.lists_by_ids(session, account_id, list_ids)
    missing: list[APIError] = [
        NotFound(f"A list with id {list_id} does not exist.", pointer=f"{LISTS}/{index}/id")
        for index, list_id in enumerate(list_ids)
        if list_id not in known
    ]
    if missing:
        raise missing[0] if len(missing) == 1 else ErrorList(missing)
    job = ProfileImportJob(
        account_id=account_id,
        id=ulid(),
        status=QUEUED,
        list_ids=list(dict.fromkeys(list_ids)),
        total_count=len(profiles),
        completed_count=0,
        failed_count=0,
        created_at=utcnow(),
    )
    session.add(job)
    session.flush()
    repository.add_items(session, account_id, job.id, profiles)
    queue.enqueue(session, JOB, {"job_id": job.id}, account_id=account_id)
    return job


def _pointer(position: int) -> str:
    return f"{PROFILES}/{position}"


def run_job(session: Session, account_id: str, job_id: str) -> bool:
    """Apply the job's next chunk of profiles; True when more remain (the caller enqueues again)."""
    job = repository.get_job(session, account_id, job_id, lock=True)
    if job is None or job.status == COMPLETE:
        return False
    now = utcnow()
    if job.status == QUEUED:
        job.status, job.started_at = PROCESSING, now
    items = repository.next_items(session, account_id, job_id, CHUNK)
    checked: list[Checked] = []
    rejected: list[Rejected] = []
    for position, payload in items:
        size = len(json.dumps(payload, separators=(",", ":")).encode())
        outcome = check_profile(position, payload, pointer=_pointer(position), size=size)
        if isinstance(outcome, Checked):
            checked.append(outcome)
        else:
            rejected.append(outcome)
    applied = apply_profiles(session, account_id, checked, list_ids=list(job.list_ids), pointer_of=_pointer)
    rejected = sorted(rejected + applied.rejected, key=lambda r: r.position)
    repository.add_errors(session, [_error_row(account_id, job_id, r) for r in rejected])
    repository.add_job_profiles(session, account_id, job_id, [pid for _position, pid in applied.profiles])
    if items:
        repository.delete_items(session, account_id, job_id, through=items[-1][0])
    job.completed_count += len(applied.profiles)
    job.failed_count += len(rejected)
    more = len(items) == CHUNK and repository.count_items(session, account_id, job_id) > 0
    if not more:
        job.status, job.completed_at, job.expires_at = COMPLETE, now, now + EXPIRES_AFTER
    session.flush()
    return more


def _error_row(account_id: str, job_id: str, rejected: Rejected) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "job_id": job_id,
        "position": rejected.position,
        "id": ulid(),
        "code": rejected.code,
        "title": rejected.title,
        "detail": rejected.detail,
        "pointer": rejected.pointer[:255],
        "original_payload": rejected.original,
    }


def get_job(session: Session, account_id: str, job_id: str) -> ProfileImportJob:
    job = repository.get_job(session, account_id, job_id)
    if job is None:
        raise NotFound(f"A profile bulk import job with id {job_id} does not exist.")
    return job


def prune_expired(session: Session, now: dt.datetime, limit: int = 100) -> int:
    """Delete jobs past their expires_at, with their errors and profile links."""
    expired = repository.expired_jobs(session, now, limit)
    for account_id, job_id in expired:
        repository.delete_job(session, account_id, job_id)
    return len(expired)
