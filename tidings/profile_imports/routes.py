"""The bulk profile import endpoints: /api/profile-bulk-import-jobs and their relationships."""

from __future__ import annotations

from fastapi import APIRouter, Body

from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, collection, single
from tidings.jsonapi.filters import compile_filter
from tidings.jsonapi.pagination import paginate
from tidings.lists import service as lists
from tidings.lists.render import list_resource
from tidings.profile_imports import repository, service
from tidings.profile_imports.render import COLLECTION, JOB_TYPE, error_resource, job_resource
from tidings.profile_imports.schemas import ImportJobCreateQuery
from tidings.profile_imports.tables import ProfileImportError, ProfileImportJob
from tidings.profiles.render import profile_resources
from tidings.profiles.schemas import sent
from tidings.profiles.tables import Profile

router = APIRouter(prefix="/api", tags=["Profiles"])
ACCEPTED = 202


@router.post(f"/{COLLECTION}", operation_id="bulk_import_profiles", status_code=ACCEPTED)
def bulk_import_profiles(
    document: ImportJobCreateQuery = Body(...), ctx: ApiContext = api("bulk_import_profiles")
) -> JSONAPIResponse:
    data = document.data
    relationships = data.relationships
    list_ids = [ref.id for ref in relationships.lists.data] if relationships and relationships.lists else []
    job = service.create_job(
        ctx.session, ctx.account_id, [sent(p) for p in data.attributes.profiles.data], list_ids
    )
    body = single(
        job_resource(ctx.urls, job, fields=ctx.params.fields.get(JOB_TYPE)),
        ctx.urls.resource(COLLECTION, job.id),
    )
    return JSONAPIResponse(body, status_code=ACCEPTED)


@router.get(f"/{COLLECTION}", operation_id="get_bulk_import_profiles_jobs")
def get_bulk_import_profiles_jobs(ctx: ApiContext = api("get_bulk_import_profiles_jobs")) -> JSONAPIResponse:
    stmt = repository.jobs_query(ctx.account_id)
    if ctx.params.filter is not None:
        stmt = stmt.where(compile_filter(ctx.params.filter, repository.JOB_FILTERS))
    page = paginate(
        ctx.session,
        stmt,
        operation=ctx.op.operation_id,
        sort_column=repository.JOB_SORTS.get(ctx.params.sort_field or "", ProfileImportJob.id),
        id_column=ProfileImportJob.id,
        descending=ctx.params.descending,
        size=ctx.params.page_size,
        cursor=ctx.params.cursor,
        sort=ctx.params.sort,
        filter_text=ctx.params.filter_text,
    )
    fields = ctx.params.fields.get(JOB_TYPE)
    data = [job_resource(ctx.urls, job, fields=fields) for job in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


@router.get(f"/{COLLECTION}/{{job_id}}", operation_id="get_bulk_import_profiles_job")
def get_bulk_import_profiles_job(
    job_id: str, ctx: ApiContext = api("get_bulk_import_profiles_job")
) -> JSONAPIResponse:
    job = service.get_job(ctx.session, ctx.account_id, job_id)
    data = job_resource(ctx.urls, job, fields=ctx.params.fields.get(JOB_TYPE))
    included = None
    if "lists" in ctx.params.include:
        found = lists.lists_by_ids(ctx.session, ctx.account_id, list(job.list_ids))
        fields = ctx.params.fields.get("list")
        included = [list_resource(ctx.urls, found[i], fields=fields) for i in job.list_ids if i in found]
    return JSONAPIResponse(single(data, ctx.urls.current(), included, include=ctx.params.include))


@router.get(f"/{COLLECTION}/{{id}}/import-errors", operation_id="get_errors_for_bulk_import_profiles_job")
def get_errors_for_bulk_import_profiles_job(
    id: str, ctx: ApiContext = api("get_errors_for_bulk_import_profiles_job")
) -> JSONAPIResponse:
    service.get_job(ctx.session, ctx.account_id, id)
    page = paginate(
        ctx.session,
        repository.errors_query(ctx.account_id, id),
        operation=ctx.op.operation_id,
        sort_column=ProfileImportError.position,
        id_column=ProfileImportError.id,
        descending=False,
        size=ctx.params.page_size,
        cursor=ctx.params.cursor,
        sort=None,
        filter_text=None,
    )
    fields = ctx.params.fields.get("import-error")
    data = [error_resource(error, fields=fields) for error in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


@router.get(f"/{COLLECTION}/{{id}}/lists", operation_id="get_list_for_bulk_import_profiles_job")
def get_list_for_bulk_import_profiles_job(
    id: str, ctx: ApiContext = api("get_list_for_bulk_import_profiles_job")
) -> JSONAPIResponse:
    job = service.get_job(ctx.session, ctx.account_id, id)
    found = lists.lists_by_ids(ctx.session, ctx.account_id, list(job.list_ids))
    fields = ctx.params.fields.get("list")
    data = [list_resource(ctx.urls, found[i], fields=fields) for i in job.list_ids if i in found]
    return JSONAPIResponse(collection(data, ctx.urls))


@router.get(
    f"/{COLLECTION}/{{id}}/relationships/lists", operation_id="get_list_ids_for_bulk_import_profiles_job"
)
def get_list_ids_for_bulk_import_profiles_job(
    id: str, ctx: ApiContext = api("get_list_ids_for_bulk_import_profiles_job")
) -> JSONAPIResponse:
    job = service.get_job(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(collection([{"type": "list", "id": i} for i in job.list_ids], ctx.urls))


def _profiles_page(ctx: ApiContext, job_id: str):  # type: ignore[no-untyped-def]
    service.get_job(ctx.session, ctx.account_id, job_id)
    return paginate(
        ctx.session,
        repository.job_profiles_query(ctx.account_id, job_id),
        operation=ctx.op.operation_id,
        sort_column=Profile.id,
        id_column=Profile.id,
        descending=False,
        size=ctx.params.page_size,
        cursor=ctx.params.cursor,
        sort=None,
        filter_text=None,
    )


@router.get(f"/{COLLECTION}/{{id}}/profiles", operation_id="get_profiles_for_bulk_import_profiles_job")
def get_profiles_for_bulk_import_profiles_job(
    id: str, ctx: ApiContext = api("get_profiles_for_bulk_import_profiles_job")
) -> JSONAPIResponse:
    page = _profiles_page(ctx, id)
    profiles: list[Profile] = list(page.rows)
    data = profile_resources(
        ctx.session,
        ctx.account_id,
        ctx.urls,
        profiles,
        fields=ctx.params.fields.get("profile"),
        extra=ctx.params.additional_fields.get("profile", []),
    )
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


@router.get(
    f"/{COLLECTION}/{{id}}/relationships/profiles",
    operation_id="get_profile_ids_for_bulk_import_profiles_job",
)
def get_profile_ids_for_bulk_import_profiles_job(
    id: str, ctx: ApiContext = api("get_profile_ids_for_bulk_import_profiles_job")
) -> JSONAPIResponse:
    page = _profiles_page(ctx, id)
    data = [{"type": "profile", "id": p.id} for p in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))
