"""Bulk import jobs and their errors as JSON:API resources."""

from __future__ import annotations

from typing import Any

from tidings.jsonapi.documents import Urls, iso, pick_fields, relationship, resource
from tidings.profile_imports.tables import ProfileImportError, ProfileImportJob

JOB_TYPE = "profile-bulk-import-job"
COLLECTION = "profile-bulk-import-jobs"
ERROR_TYPE = "import-error"


def job_resource(urls: Urls, job: ProfileImportJob, *, fields: list[str] | None = None) -> dict[str, Any]:
    attributes = {
        "status": job.status,
        "created_at": iso(job.created_at),
        "total_count": job.total_count,
        "completed_count": job.completed_count,
        "failed_count": job.failed_count,
        "completed_at": iso(job.completed_at),
        "expires_at": iso(job.expires_at),
        "started_at": iso(job.started_at),
    }
    relationships = {
        "lists": relationship(
            "list",
            list(job.list_ids or []),
            urls.relationship(COLLECTION, job.id, "lists"),
            urls.related(COLLECTION, job.id, "lists"),
            many=True,
        ),
        "profiles": {
            "links": {
                "self": urls.relationship(COLLECTION, job.id, "profiles"),
                "related": urls.related(COLLECTION, job.id, "profiles"),
            }
        },
        "import-errors": {"links": {"related": urls.related(COLLECTION, job.id, "import-errors")}},
    }
    return resource(
        JOB_TYPE,
        job.id,
        attributes,
        urls.resource(COLLECTION, job.id),
        relationships=relationships,
        fields=fields,
    )


def error_resource(error: ProfileImportError, *, fields: list[str] | None = None) -> dict[str, Any]:
    """An import-error (the spec gives it no URL of its own, so no links)."""
    attributes = {
        "code": error.code,
        "title": error.title,
        "detail": error.detail,
        "source": {"pointer": error.pointer},
        "original_payload": error.original_payload,
    }
    return {"type": ERROR_TYPE, "id": error.id, "attributes": pick_fields(attributes, fields)}
