"""Bulk create/update/delete jobs of items, variants and categories.

The endpoint checks the envelope (type, at most 100 entries), validates every entry on its
own, stores the job resource and enqueues `catalogs.bulk_<verb>_<resources>` in the same
transaction, and answers 202. The handler applies each valid entry in a savepoint through
the same service functions as the single-resource endpoints, so one bad entry fails alone;
every failure is kept on the job with the pointer of its entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.catalogs import repository, service
from tidings.catalogs.schemas import (
    MAX_BULK,
    BulkJobCreate,
    CategoryCreateData,
    CategoryUpdateData,
    DeleteRef,
    ItemCreateData,
    ItemUpdateData,
    VariantCreateData,
    VariantUpdateData,
)
from tidings.catalogs.tables import CatalogBulkJob, CatalogCategory, CatalogItem, CatalogVariant
from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.jobs import queue
from tidings.jsonapi.errors import APIError, ErrorList, InvalidInput, NotFound, Throttled

MAX_IN_PROGRESS = 500
QUEUED, PROCESSING, COMPLETE, CANCELLED = "queued", "processing", "complete", "cancelled"


@dataclass(frozen=True)
class BulkKind:
    resource: str  # catalog-item | catalog-variant | catalog-category
    verb: str  # create | update | delete
    key: str  # the attribute holding the entries: items | variants | categories
    create_op: str
    list_op: str
    get_op: str

    @property
    def job_type(self) -> str:
        return f"{self.resource}-bulk-{self.verb}-job"

    @property
    def collection(self) -> str:
        return f"{self.job_type}s"

    @property
    def job_name(self) -> str:
        return f"catalogs.bulk_{self.verb}_{self.key}"

    @property
    def related(self) -> tuple[str, str] | None:
        """The relationship a job shows (created or updated resources); deletes show none."""
        return None if self.verb == "delete" else (self.key, self.resource)


KINDS = [
    BulkKind("catalog-item", "create", "items", "bulk_create_catalog_items",
             "get_bulk_create_catalog_items_jobs", "get_bulk_create_catalog_items_job"),
    BulkKind("catalog-item", "update", "items", "bulk_update_catalog_items",
             "get_bulk_update_catalog_items_jobs", "get_bulk_update_catalog_items_job"),
    BulkKind("catalog-item", "delete", "items", "bulk_delete_catalog_items",
             "get_bulk_delete_catalog_items_jobs", "get_bulk_delete_catalog_items_job"),
    BulkKind("catalog-variant", "create", "variants", "bulk_create_catalog_variants",
             "get_bulk_create_variants_jobs", "get_bulk_create_variants_job"),
    BulkKind("catalog-variant", "update", "variants", "bulk_update_catalog_variants",
             "get_bulk_update_variants_jobs", "get_bulk_update_variants_job"),
    BulkKind("catalog-variant", "delete", "variants", "bulk_delete_catalog_variants",
             "get_bulk_delete_variants_jobs", "get_bulk_delete_variants_job"),
    BulkKind("catalog-category", "create", "categories", "bulk_create_catalog_categories",
             "get_bulk_create_categories_jobs", "get_bulk_create_categories_job"),
    BulkKind("catalog-category", "update", "categories", "bulk_update_catalog_categories",
             "get_bulk_update_categories_jobs", "get_bulk_update_categories_job"),
    BulkKind("catalog-category", "delete", "categories", "bulk_delete_catalog_categories",
             "get_bulk_delete_categories_jobs", "get_bulk_delete_categories_job"),
]  # fmt: skip
BY_NAME = {kind.job_name: kind for kind in KINDS}

ENTRY_MODEL: dict[tuple[str, str], type[BaseModel]] = {
    ("catalog-item", "create"): ItemCreateData,
    ("catalog-item", "update"): ItemUpdateData,
    ("catalog-item", "delete"): DeleteRef,
    ("catalog-variant", "create"): VariantCreateData,
    ("catalog-variant", "update"): VariantUpdateData,
    ("catalog-variant", "delete"): DeleteRef,
    ("catalog-category", "create"): CategoryCreateData,
    ("catalog-category", "update"): CategoryUpdateData,
    ("catalog-category", "delete"): DeleteRef,
}
MODEL: dict[str, Any] = {
    "catalog-item": CatalogItem,
    "catalog-variant": CatalogVariant,
    "catalog-category": CatalogCategory,
}


def job_error(error: APIError, pointer: str | None) -> dict[str, Any]:
    """An entry of a job's `errors`, in the spec's shape (id, code, title, detail, source)."""
    body = error.as_error_object()
    return {
        "id": body["id"],
        "code": body["code"],
        "title": body["title"],
        "detail": body["detail"],
        "source": {"pointer": pointer or "/data"},
    }


def _validation_errors(exc: ValidationError, base: str) -> list[dict[str, Any]]:
    out = []
    for item in exc.errors():
        loc = [str(part) for part in item.get("loc", ())]
        message = item.get("msg", "Invalid value.")
        if item.get("type") == "missing":
            message = f"'{loc[-1]}' is a required field." if loc else message
        elif item.get("type") == "extra_forbidden":
            message = f"'{loc[-1]}' is not a valid field for this resource."
        pointer = "/".join([base, *loc])
        out.append(job_error(InvalidInput(message), pointer))
    return out


def _entry_pointer(kind: BulkKind, index: int, inner: str | None = None) -> str:
    """`/data/id` of a single-resource error becomes `/data/attributes/items/data/7/id`."""
    base = f"/data/attributes/{kind.key}/data/{index}"
    if inner and inner.startswith("/data"):
        return base + inner[len("/data") :]
    return base


def _entries(kind: BulkKind, document: BulkJobCreate) -> list[Any]:
    errors: list[APIError] = []
    if document.data.type != kind.job_type:
        errors.append(InvalidInput(f"'type' must be {kind.job_type!r}.", pointer="/data/type"))
    attributes = document.data.attributes
    for name in sorted(set(attributes) - {kind.key}):
        errors.append(
            InvalidInput(
                f"'{name}' is not a valid field for this resource.", pointer=f"/data/attributes/{name}"
            )
        )
    block = attributes.get(kind.key)
    entries = block.get("data") if isinstance(block, dict) else None
    if not isinstance(entries, list):
        errors.append(
            InvalidInput(
                f"'{kind.key}' must be an object with a 'data' array of {kind.resource} resources.",
                pointer=f"/data/attributes/{kind.key}/data",
            )
        )
    elif not entries or len(entries) > MAX_BULK:
        errors.append(
            InvalidInput(
                f"A bulk job takes from 1 to {MAX_BULK} {kind.key}; this request has {len(entries)}.",
                pointer=f"/data/attributes/{kind.key}/data",
            )
        )
    if errors:
        raise ErrorList(errors)
    assert isinstance(entries, list)
    return entries


def submit(session: Session, account_id: str, kind: BulkKind, document: BulkJobCreate) -> CatalogBulkJob:
    """Validate every entry, store the job with the entries that failed validation, enqueue the rest."""
    entries = _entries(kind, document)
    if repository.jobs_in_progress(session, account_id) >= MAX_IN_PROGRESS:
        raise Throttled(
            f"At most {MAX_IN_PROGRESS} catalog bulk jobs may be in progress at once; retry later.",
            headers={"Retry-After": "10"},
        )
    adapter = TypeAdapter(ENTRY_MODEL[(kind.resource, kind.verb)])
    errors: list[dict[str, Any]] = []
    invalid: set[int] = set()
    valid: list[list[Any]] = []
    for index, raw in enumerate(entries):
        base = _entry_pointer(kind, index)
        try:
            entry: Any = adapter.validate_python(raw)
            if kind.verb == "delete" and entry.type != kind.resource:
                raise InvalidInput(f"'type' must be {kind.resource!r}.", pointer="/data/type")
            if kind.verb != "create":
                service.check_id(entry.id, kind.resource, pointer="/data/id")
        except ValidationError as exc:
            errors += _validation_errors(exc, base)
            invalid.add(index)
            continue
        except APIError as exc:
            errors.append(job_error(exc, _entry_pointer(kind, index, exc.pointer)))
            invalid.add(index)
            continue
        valid.append([index, raw])
    now = utcnow()
    job = CatalogBulkJob(
        account_id=account_id,
        id=ulid(),
        job_type=kind.job_type,
        status=QUEUED if valid else COMPLETE,
        total_count=len(entries),
        completed_count=0,
        failed_count=len(invalid),
        errors=errors,
        payload=valid,
        resource_ids=[],
        created_at=now,
        completed_at=None if valid else now,
    )
    session.add(job)
    session.flush()
    if valid:
        queue.enqueue(session, kind.job_name, {"job_id": job.id}, account_id=account_id, dedup_key=job.id)
    return job


def _apply_one(session: Session, account_id: str, kind: BulkKind, entry: Any) -> str | None:
    """Apply one entry; returns the id of the created or updated resource."""
    actions: dict[tuple[str, str], Callable[[], Any]] = {
        ("catalog-item", "create"): lambda: service.create_item(session, account_id, entry),
        ("catalog-item", "update"): lambda: service.update_item(
            session, account_id, entry.id, entry, source="bulk"
        ),
        ("catalog-item", "delete"): lambda: service.delete_item(session, account_id, entry.id),
        ("catalog-variant", "create"): lambda: service.create_variant(session, account_id, entry),
        ("catalog-variant", "update"): lambda: service.update_variant(
            session, account_id, entry.id, entry, source="bulk"
        ),
        ("catalog-variant", "delete"): lambda: service.delete_variant(session, account_id, entry.id),
        ("catalog-category", "create"): lambda: service.create_category(session, account_id, entry),
        ("catalog-category", "update"): lambda: service.update_category(session, account_id, entry.id, entry),
        ("catalog-category", "delete"): lambda: service.delete_category(session, account_id, entry.id),
    }
    result = actions[(kind.resource, kind.verb)]()
    return None if result is None else str(result.id)


def _path_errors(error: APIError) -> APIError:
    """A path-style error (parameter "id") from a service call is about the entry's id."""
    if error.parameter == "id":
        error.parameter, error.pointer = None, "/data/id"
    elif isinstance(error, NotFound) and error.pointer is None:
        error.pointer = "/data/id"
    return error


def apply(session: Session, account_id: str, job_id: str) -> None:
    """The job handler's work: apply the valid entries, each in a savepoint."""
    job = session.get(CatalogBulkJob, (account_id, job_id))
    if job is None or job.status != QUEUED:
        return  # already applied (or gone): running a job twice changes nothing
    kind = next(k for k in KINDS if k.job_type == job.job_type)
    adapter = TypeAdapter(ENTRY_MODEL[(kind.resource, kind.verb)])
    errors = list(job.errors or [])
    failed_entries = set()
    done: list[str] = []
    for index, raw in job.payload or []:
        entry: Any = adapter.validate_python(raw)
        try:
            with session.begin_nested():
                resource_id = _apply_one(session, account_id, kind, entry)
        except ErrorList as exc:
            errors += [job_error(e, _entry_pointer(kind, index, _path_errors(e).pointer)) for e in exc.errors]
            failed_entries.add(index)
            continue
        except APIError as exc:
            errors.append(job_error(exc, _entry_pointer(kind, index, _path_errors(exc).pointer)))
            failed_entries.add(index)
            continue
        if resource_id is not None:
            done.append(resource_id)
        else:
            done.append(entry.id)
    job.errors = errors
    job.failed_count += len(failed_entries)
    job.completed_count = len(done)
    job.resource_ids = done if kind.related else []
    job.payload = []
    job.status = COMPLETE
    job.completed_at = utcnow()
    session.flush()


def get_job(session: Session, account_id: str, kind: BulkKind, job_id: str) -> CatalogBulkJob:
    # Job ids are ULIDs; anything else (too long for the column, NUL...) is simply not found.
    job = (
        repository.get_bulk_job(session, account_id, kind.job_type, job_id)
        if len(job_id) == 26 and job_id.isalnum()
        else None
    )
    if job is None:
        raise NotFound(f"A {kind.job_type} with id {job_id} does not exist.")
    return job


def related_resources(session: Session, account_id: str, kind: BulkKind, job: CatalogBulkJob) -> list[Any]:
    """The job's created or updated resources that still exist, in the job's order."""
    ids = list(job.resource_ids or [])
    if not ids or kind.related is None:
        return []
    model = MODEL[kind.resource]
    rows = session.execute(select(model).where(model.account_id == account_id, model.id.in_(ids))).scalars()
    found = {row.id: row for row in rows}
    return [found[i] for i in ids if i in found]
