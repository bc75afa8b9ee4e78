"""bulk_suppress_profiles and bulk_unsuppress_profiles: job resources, and the work they do.

A request names up to 100 emails, a list or a segment (all its members when the job runs).
Suppression adds USER_SUPPRESSED (consent unchanged); unsuppression lifts only
USER_SUPPRESSED. A profile that already had (or lacked) it is counted in `skipped_count`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from tidings.consent import service
from tidings.consent.gateways import lists, segments
from tidings.consent.tables import SuppressionJob
from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.jobs import queue
from tidings.jsonapi.documents import Urls, iso, relationship, resource
from tidings.jsonapi.errors import APIError, ErrorList, InvalidInput, NotFound
from tidings.jsonapi.filters import FilterField
from tidings.profiles.identifiers import IdentifierError, normalize_email
from tidings.profiles.identity import ProfileInput, Source, resolve_batch

MAX_EMAILS = 100
TYPES = {
    "suppress": "profile-suppression-bulk-create-job",
    "unsuppress": "profile-suppression-bulk-delete-job",
}
COLLECTIONS = {
    "suppress": "profile-suppression-bulk-create-jobs",
    "unsuppress": "profile-suppression-bulk-delete-jobs",
}
FILTERS = {
    "status": FilterField(SuppressionJob.status),
    "list_id": FilterField(SuppressionJob.list_id),
    "segment_id": FilterField(SuppressionJob.segment_id),
}


def create_job(
    session: Session,
    account_id: str,
    kind: str,
    emails: list[str] | None,
    *,
    list_id: str | None,
    segment_id: str | None,
) -> SuppressionJob:
    sources = [x for x in (emails is not None, list_id is not None, segment_id is not None) if x]
    if len(sources) != 1:
        raise InvalidInput(
            "Give either profiles (emails), a list or a segment.", pointer="/data/attributes/profiles"
        )
    if segment_id is not None and not segments().segment_exists(session, account_id, segment_id):
        raise NotFound(
            f"A segment with id {segment_id} does not exist.", pointer="/data/relationships/segment/data/id"
        )
    if list_id is not None and lists().opt_in_process(session, account_id, list_id) is None:
        raise NotFound(
            f"A list with id {list_id} does not exist.", pointer="/data/relationships/list/data/id"
        )
    normalized: list[str] = []
    if emails is not None:
        if not emails or len(emails) > MAX_EMAILS:
            raise InvalidInput(f"Give 1 to {MAX_EMAILS} profiles.", pointer="/data/attributes/profiles/data")
        errors: list[APIError] = []
        for i, email in enumerate(emails):
            try:
                normalized.append(normalize_email(email))
            except IdentifierError as exc:
                errors.append(
                    InvalidInput(exc.detail, pointer=f"/data/attributes/profiles/data/{i}/attributes/email")
                )
        if errors:
            raise errors[0] if len(errors) == 1 else ErrorList(errors)
    job = SuppressionJob(
        account_id=account_id,
        id=ulid(),
        kind=kind,
        status="queued",
        list_id=list_id,
        segment_id=segment_id,
        emails=sorted(set(normalized)),
        total_count=len(set(normalized)),
        completed_count=0,
        skipped_count=0,
        created_at=utcnow(),
    )
    session.add(job)
    session.flush()
    queue.enqueue(session, f"consent.bulk_{kind}", {"job_id": job.id}, account_id=account_id)
    return job


def run_job(session: Session, account_id: str, job_id: str) -> None:
    job = session.get(SuppressionJob, (account_id, job_id))
    if job is None or job.status == "complete":
        return
    job.status = "processing"
    if job.list_id:
        profile_ids = lists().member_ids(session, account_id, job.list_id)
    elif job.segment_id:
        profile_ids = segments().member_ids(session, account_id, job.segment_id)
    else:
        inputs = [ProfileInput(email=email) for email in job.emails]
        results = resolve_batch(session, account_id, inputs, source=Source.SUBSCRIPTION)
        profile_ids = [r.profile_id for r in results if r.profile_id]
    job.total_count = len(profile_ids)
    done = skipped = 0
    for profile_id in profile_ids:
        changed = (
            service.suppress(session, account_id, profile_id)
            if job.kind == "suppress"
            else service.unsuppress(session, account_id, profile_id)
        )
        if changed:
            done += 1
        else:
            skipped += 1
    job.completed_count, job.skipped_count = done, skipped
    job.status = "complete"
    job.completed_at = utcnow()
    session.flush()


def get_job(session: Session, account_id: str, kind: str, job_id: str) -> SuppressionJob:
    job = session.get(SuppressionJob, (account_id, job_id))
    if job is None or job.kind != kind:
        raise NotFound(f"A job with id {job_id} does not exist.")
    return job


def jobs_query(account_id: str, kind: str) -> Select[Any]:
    return select(SuppressionJob).where(SuppressionJob.account_id == account_id, SuppressionJob.kind == kind)


def job_resource(urls: Urls, job: SuppressionJob, *, fields: list[str] | None = None) -> dict[str, Any]:
    collection = COLLECTIONS[job.kind]
    attributes = {
        "status": job.status,
        "created_at": iso(job.created_at),
        "total_count": job.total_count,
        "completed_count": job.completed_count,
        "completed_at": iso(job.completed_at),
        "skipped_count": job.skipped_count,
    }
    relationships = {
        "lists": relationship(
            "list",
            [job.list_id] if job.list_id else [],
            urls.relationship(collection, job.id, "lists"),
            urls.related(collection, job.id, "lists"),
            many=True,
        ),
        "segments": relationship(
            "segment",
            [job.segment_id] if job.segment_id else [],
            urls.relationship(collection, job.id, "segments"),
            urls.related(collection, job.id, "segments"),
            many=True,
        ),
    }
    return resource(
        TYPES[job.kind],
        job.id,
        attributes,
        urls.resource(collection, job.id),
        relationships=relationships,
        fields=fields,
    )
