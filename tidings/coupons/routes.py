"""The coupon endpoints of Klaviyo's API: coupons, coupon codes and bulk code jobs (17 operations)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body
from fastapi.responses import Response
from sqlalchemy import Select, select

from tidings.coupons import repository, service
from tidings.coupons.render import code_resource, coupon_resource, job_resource
from tidings.coupons.schemas import (
    BulkJobQuery,
    CodeCreateQuery,
    CodeUpdateQuery,
    CouponCreateQuery,
    CouponUpdateQuery,
)
from tidings.coupons.tables import Coupon, CouponCode, CouponCodeJob
from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, collection, single
from tidings.jsonapi.filters import compile_filter
from tidings.jsonapi.pagination import Page, paginate

router = APIRouter(prefix="/api", tags=["Coupons"])


def _page(ctx: ApiContext, stmt: Select[Any], column: Any) -> Page:
    return paginate(
        ctx.session,
        stmt,
        operation=ctx.op.operation_id,
        sort_column=column,
        id_column=column,
        descending=False,
        size=ctx.params.page_size,
        cursor=ctx.params.cursor,
        sort=None,
        filter_text=ctx.params.filter_text,
    )


def _coupon(ctx: ApiContext, coupon: Coupon, status: int = 200) -> JSONAPIResponse:
    data = coupon_resource(ctx.urls, coupon, ctx.params.fields.get("coupon"))
    self_url = ctx.urls.current() if status == 200 else data["links"]["self"]
    return JSONAPIResponse(single(data, self_url), status_code=status)


def _code(ctx: ApiContext, code: CouponCode, status: int = 200) -> JSONAPIResponse:
    data = code_resource(ctx.urls, code, ctx.params.fields.get("coupon-code"))
    included = None
    if "coupon" in ctx.params.include:
        coupon = service.get_coupon(ctx.session, ctx.account_id, code.coupon_id)
        included = [coupon_resource(ctx.urls, coupon, ctx.params.fields.get("coupon"))]
    self_url = ctx.urls.current() if status == 200 else data["links"]["self"]
    return JSONAPIResponse(single(data, self_url, included), status_code=status)


# ---------------------------------------------------------------------------- coupons


@router.get("/coupons", operation_id="get_coupons")
def get_coupons(ctx: ApiContext = api("get_coupons")) -> JSONAPIResponse:
    page = _page(ctx, repository.coupons_query(ctx.account_id), Coupon.id)
    data = [coupon_resource(ctx.urls, c, ctx.params.fields.get("coupon")) for c in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


@router.post("/coupons", operation_id="create_coupon", status_code=201)
def create_coupon(
    document: CouponCreateQuery = Body(...), ctx: ApiContext = api("create_coupon")
) -> JSONAPIResponse:
    return _coupon(ctx, service.create_coupon(ctx.session, ctx.account_id, document.data.attributes), 201)


@router.get("/coupons/{id}", operation_id="get_coupon")
def get_coupon(id: str, ctx: ApiContext = api("get_coupon")) -> JSONAPIResponse:
    return _coupon(ctx, service.get_coupon(ctx.session, ctx.account_id, id))


@router.patch("/coupons/{id}", operation_id="update_coupon")
def update_coupon(
    id: str, document: CouponUpdateQuery = Body(...), ctx: ApiContext = api("update_coupon")
) -> JSONAPIResponse:
    changes = document.data.attributes.model_dump(exclude_unset=True)
    return _coupon(ctx, service.update_coupon(ctx.session, ctx.account_id, id, document.data.id, changes))


@router.delete("/coupons/{id}", operation_id="delete_coupon", status_code=204)
def delete_coupon(id: str, ctx: ApiContext = api("delete_coupon")) -> Response:
    service.delete_coupon(ctx.session, ctx.account_id, id)
    return Response(status_code=204)


def _codes_of_coupon(ctx: ApiContext, id: str) -> Page:
    service.get_coupon(ctx.session, ctx.account_id, id)
    stmt = repository.codes_query(ctx.account_id).where(CouponCode.coupon_id == id)
    if ctx.params.filter is not None:
        stmt = stmt.where(compile_filter(ctx.params.filter, repository.CODE_FILTERS))
    return _page(ctx, stmt, CouponCode.id)


@router.get("/coupons/{id}/coupon-codes", operation_id="get_coupon_codes_for_coupon")
def get_coupon_codes_for_coupon(
    id: str, ctx: ApiContext = api("get_coupon_codes_for_coupon")
) -> JSONAPIResponse:
    page = _codes_of_coupon(ctx, id)
    data = [code_resource(ctx.urls, c, ctx.params.fields.get("coupon-code")) for c in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


@router.get("/coupons/{id}/relationships/coupon-codes", operation_id="get_coupon_code_ids_for_coupon")
def get_coupon_code_ids_for_coupon(
    id: str, ctx: ApiContext = api("get_coupon_code_ids_for_coupon")
) -> JSONAPIResponse:
    page = _codes_of_coupon(ctx, id)
    data = [{"type": "coupon-code", "id": c.id} for c in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


# ---------------------------------------------------------------------------- codes


@router.get("/coupon-codes", operation_id="get_coupon_codes")
def get_coupon_codes(ctx: ApiContext = api("get_coupon_codes")) -> JSONAPIResponse:
    service.require_code_scope(ctx.params.filter_text)
    stmt = repository.codes_query(ctx.account_id)
    if ctx.params.filter is not None:
        stmt = stmt.where(compile_filter(ctx.params.filter, repository.CODE_FILTERS))
    page = _page(ctx, stmt, CouponCode.id)
    data = [code_resource(ctx.urls, c, ctx.params.fields.get("coupon-code")) for c in page.rows]
    included = None
    if "coupon" in ctx.params.include:
        ids = sorted({c.coupon_id for c in page.rows})
        found = ctx.session.execute(
            select(Coupon).where(Coupon.account_id == ctx.account_id, Coupon.id.in_(ids))
        ).scalars()
        included = [coupon_resource(ctx.urls, c, ctx.params.fields.get("coupon")) for c in found]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor, included))


@router.post("/coupon-codes", operation_id="create_coupon_code", status_code=200)
def create_coupon_code(
    document: CodeCreateQuery = Body(...), ctx: ApiContext = api("create_coupon_code")
) -> JSONAPIResponse:
    return _code(ctx, service.create_code(ctx.session, ctx.account_id, document.data), 200)


@router.get("/coupon-codes/{id}", operation_id="get_coupon_code")
def get_coupon_code(id: str, ctx: ApiContext = api("get_coupon_code")) -> JSONAPIResponse:
    return _code(ctx, service.get_code(ctx.session, ctx.account_id, id))


@router.patch("/coupon-codes/{id}", operation_id="update_coupon_code")
def update_coupon_code(
    id: str, document: CodeUpdateQuery = Body(...), ctx: ApiContext = api("update_coupon_code")
) -> JSONAPIResponse:
    changes = document.data.attributes.model_dump(exclude_unset=True)
    return _code(ctx, service.update_code(ctx.session, ctx.account_id, id, document.data.id, changes))


@router.delete("/coupon-codes/{id}", operation_id="delete_coupon_code", status_code=204)
def delete_coupon_code(id: str, ctx: ApiContext = api("delete_coupon_code")) -> Response:
    service.delete_code(ctx.session, ctx.account_id, id)
    return Response(status_code=204)


@router.get("/coupon-codes/{id}/coupon", operation_id="get_coupon_for_coupon_code")
def get_coupon_for_coupon_code(
    id: str, ctx: ApiContext = api("get_coupon_for_coupon_code")
) -> JSONAPIResponse:
    code = service.get_code(ctx.session, ctx.account_id, id)
    return _coupon(ctx, service.get_coupon(ctx.session, ctx.account_id, code.coupon_id))


@router.get("/coupon-codes/{id}/relationships/coupon", operation_id="get_coupon_id_for_coupon_code")
def get_coupon_id_for_coupon_code(
    id: str, ctx: ApiContext = api("get_coupon_id_for_coupon_code")
) -> JSONAPIResponse:
    code = service.get_code(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(single({"type": "coupon", "id": code.coupon_id}, ctx.urls.current()))


# ---------------------------------------------------------------------------- bulk jobs


@router.get("/coupon-code-bulk-create-jobs", operation_id="get_bulk_create_coupon_code_jobs")
def get_bulk_create_coupon_code_jobs(
    ctx: ApiContext = api("get_bulk_create_coupon_code_jobs"),
) -> JSONAPIResponse:
    stmt = repository.jobs_query(ctx.account_id)
    if ctx.params.filter is not None:
        stmt = stmt.where(compile_filter(ctx.params.filter, repository.JOB_FILTERS))
    page = _page(ctx, stmt, CouponCodeJob.id)
    fields = ctx.params.fields.get("coupon-code-bulk-create-job")
    data = [job_resource(ctx.urls, job, fields) for job in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


@router.post("/coupon-code-bulk-create-jobs", operation_id="bulk_create_coupon_codes", status_code=202)
def bulk_create_coupon_codes(
    document: BulkJobQuery = Body(...), ctx: ApiContext = api("bulk_create_coupon_codes")
) -> JSONAPIResponse:
    job = service.create_bulk_job(ctx.session, ctx.account_id, document.data.attributes.coupon_codes.data)
    data = job_resource(ctx.urls, job, ctx.params.fields.get("coupon-code-bulk-create-job"))
    return JSONAPIResponse(single(data, data["links"]["self"]), status_code=202)


@router.get("/coupon-code-bulk-create-jobs/{job_id}", operation_id="get_bulk_create_coupon_codes_job")
def get_bulk_create_coupon_codes_job(
    job_id: str, ctx: ApiContext = api("get_bulk_create_coupon_codes_job")
) -> JSONAPIResponse:
    job = service.get_bulk_job(ctx.session, ctx.account_id, job_id)
    included = None
    if "coupon-codes" in ctx.params.include:
        rows = ctx.session.execute(
            select(CouponCode).where(
                CouponCode.account_id == ctx.account_id, CouponCode.id.in_(job.code_ids or [])
            )
        ).scalars()
        included = [code_resource(ctx.urls, c, ctx.params.fields.get("coupon-code")) for c in rows]
    data = job_resource(ctx.urls, job, ctx.params.fields.get("coupon-code-bulk-create-job"))
    return JSONAPIResponse(single(data, ctx.urls.current(), included))
