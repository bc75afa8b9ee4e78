"""HTTP for the nine kinds of catalog bulk jobs (create/update/delete x items/variants/categories).

Each kind has the same three routes, so they are registered from `bulk.KINDS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body

from tidings.catalogs import bulk, listing
from tidings.catalogs.render import category_resource, item_resource, job_resource, variant_resource
from tidings.catalogs.schemas import BulkJobCreate
from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, Urls, collection, single

router = APIRouter(prefix="/api", tags=["Catalogs"])

RENDER: dict[str, Callable[[Urls, Any, list[str] | None], dict[str, Any]]] = {
    "catalog-item": lambda urls, row, fields: item_resource(urls, row, fields),
    "catalog-variant": variant_resource,
    "catalog-category": category_resource,
}


def _job(ctx: ApiContext, kind: bulk.BulkKind, job: Any) -> dict[str, Any]:
    return job_resource(ctx.urls, job, kind.collection, kind.related, ctx.params.fields.get(kind.job_type))


def _register(kind: bulk.BulkKind) -> None:
    path = f"/{kind.collection}"

    def create(document: BulkJobCreate = Body(...), ctx: ApiContext = api(kind.create_op)) -> JSONAPIResponse:
        job = bulk.submit(ctx.session, ctx.account_id, kind, document)
        data = _job(ctx, kind, job)
        return JSONAPIResponse(single(data, data["links"]["self"]), status_code=202)

    def list_jobs(ctx: ApiContext = api(kind.list_op)) -> JSONAPIResponse:
        page = listing.bulk_jobs(ctx.session, ctx.account_id, kind.job_type, ctx.params, ctx.op.operation_id)
        data = [_job(ctx, kind, job) for job in page.rows]
        return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))

    def get_job(job_id: str, ctx: ApiContext = api(kind.get_op)) -> JSONAPIResponse:
        job = bulk.get_job(ctx.session, ctx.account_id, kind, job_id)
        included = None
        if kind.related and kind.related[0] in ctx.params.include:
            fields = ctx.params.fields.get(kind.resource)
            rows = bulk.related_resources(ctx.session, ctx.account_id, kind, job)
            included = [RENDER[kind.resource](ctx.urls, row, fields) for row in rows]
        return JSONAPIResponse(
            single(_job(ctx, kind, job), ctx.urls.current(), included, include=ctx.params.include)
        )

    router.add_api_route(path, create, methods=["POST"], operation_id=kind.create_op, status_code=202)
    router.add_api_route(path, list_jobs, methods=["GET"], operation_id=kind.list_op)
    router.add_api_route(f"{path}/{{job_id}}", get_job, methods=["GET"], operation_id=kind.get_op)


for _kind in bulk.KINDS:
    _register(_kind)
