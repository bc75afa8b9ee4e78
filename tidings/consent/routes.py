"""Subscription endpoints: bulk subscribe and unsubscribe (202, applied by a job),
/client/subscriptions (202, applied at once), bulk suppress and unsuppress with their jobs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response

from tidings.consent import bulk, suppression_jobs
from tidings.consent.schemas import (
    BulkSubscribeQuery,
    BulkUnsubscribeQuery,
    ClientSubscriptionQuery,
    SuppressData,
    SuppressQuery,
    UnsuppressData,
    UnsuppressQuery,
    dump,
)
from tidings.consent.tables import SuppressionJob
from tidings.http import ApiContext, ClientContext, api, client
from tidings.jobs import queue
from tidings.jsonapi.documents import JSONAPIResponse, collection, single
from tidings.jsonapi.filters import compile_filter
from tidings.jsonapi.pagination import paginate
from tidings.profiles import service as profiles
from tidings.profiles.identity import Source
from tidings.profiles.schemas import sent

router = APIRouter(prefix="/api", tags=["Profiles"])
client_router = APIRouter(prefix="/client", tags=["Client"])
ACCEPTED = 202


@router.post(
    "/profile-subscription-bulk-create-jobs", operation_id="bulk_subscribe_profiles", status_code=ACCEPTED
)
def bulk_subscribe_profiles(
    document: BulkSubscribeQuery = Body(...), ctx: ApiContext = api("bulk_subscribe_profiles")
) -> Response:
    data = document.data
    relationships = data.relationships
    payload = bulk.check_subscribe(
        ctx.session,
        ctx.account_id,
        [dump(p) for p in data.attributes.profiles.data],
        list_id=relationships.list.data.id if relationships and relationships.list else None,
        custom_source=data.attributes.custom_source,
        historical_import=bool(data.attributes.historical_import),
    )
    queue.enqueue(ctx.session, "consent.bulk_subscribe", payload, account_id=ctx.account_id)
    return Response(status_code=ACCEPTED)


@router.post(
    "/profile-subscription-bulk-delete-jobs", operation_id="bulk_unsubscribe_profiles", status_code=ACCEPTED
)
def bulk_unsubscribe_profiles(
    document: BulkUnsubscribeQuery = Body(...), ctx: ApiContext = api("bulk_unsubscribe_profiles")
) -> Response:
    data = document.data
    relationships = data.relationships
    payload = bulk.check_unsubscribe(
        ctx.session,
        ctx.account_id,
        [dump(p) for p in data.attributes.profiles.data],
        list_id=relationships.list.data.id if relationships and relationships.list else None,
    )
    queue.enqueue(ctx.session, "consent.bulk_unsubscribe", payload, account_id=ctx.account_id)
    return Response(status_code=ACCEPTED)


@client_router.post("/subscriptions", operation_id="create_client_subscription", status_code=ACCEPTED)
def create_client_subscription(
    document: ClientSubscriptionQuery = Body(...), ctx: ClientContext = client("create_client_subscription")
) -> Response:
    data = document.data
    block = data.attributes.profile.data
    attributes = sent(block.attributes)
    subscriptions = attributes.pop("subscriptions", None)
    attributes.pop("age_gated_date_of_birth", None)
    # The profile block is an upsert (a public key never changes identifiers), then the consent.
    result = profiles.resolve_block(
        ctx.session,
        ctx.account_id,
        attributes,
        profile_id=block.id,
        meta=sent(block.meta) if block.meta else None,
        source=Source.CLIENT,
        pointer="/data/attributes/profile/data/attributes",
    )
    wanted: dict[str, Any] = {
        k: attributes[k] for k in ("email", "phone_number") if attributes.get(k) is not None
    }
    if subscriptions is not None:
        wanted["subscriptions"] = dump(block.attributes.subscriptions)
    item = {"type": "profile", "id": result.profile_id, "attributes": wanted}
    payload = bulk.check_subscribe(
        ctx.session,
        ctx.account_id,
        [item],
        list_id=data.relationships.list.data.id,
        custom_source=data.attributes.custom_source,
        historical_import=False,
    )
    bulk.apply_subscribe(ctx.session, ctx.account_id, payload, client=True)
    return Response(status_code=ACCEPTED)


# ----------------------------------------------------------------------------- suppressions


def _create_suppression_job(
    ctx: ApiContext, kind: str, data: SuppressData | UnsuppressData
) -> JSONAPIResponse:
    profiles_in = data.attributes.profiles
    rel = data.relationships
    job = suppression_jobs.create_job(
        ctx.session,
        ctx.account_id,
        kind,
        [p.attributes.email for p in profiles_in.data] if profiles_in is not None else None,
        list_id=rel.list.data.id if rel and rel.list else None,
        segment_id=rel.segment.data.id if rel and rel.segment else None,
    )
    fields = ctx.params.fields.get(suppression_jobs.TYPES[kind])
    body = single(
        suppression_jobs.job_resource(ctx.urls, job, fields=fields),
        ctx.urls.resource(suppression_jobs.COLLECTIONS[kind], job.id),
    )
    return JSONAPIResponse(body, status_code=ACCEPTED)


def _list_suppression_jobs(ctx: ApiContext, kind: str, operation: str) -> JSONAPIResponse:
    stmt = suppression_jobs.jobs_query(ctx.account_id, kind)
    if ctx.params.filter is not None:
        stmt = stmt.where(compile_filter(ctx.params.filter, suppression_jobs.FILTERS))
    sort = SuppressionJob.created_at if ctx.params.sort_field == "created" else SuppressionJob.id
    page = paginate(
        ctx.session,
        stmt,
        operation=operation,
        sort_column=sort,
        id_column=SuppressionJob.id,
        descending=ctx.params.descending,
        size=ctx.params.page_size,
        cursor=ctx.params.cursor,
        sort=ctx.params.sort,
        filter_text=ctx.params.filter_text,
    )
    fields = ctx.params.fields.get(suppression_jobs.TYPES[kind])
    data = [suppression_jobs.job_resource(ctx.urls, job, fields=fields) for job in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


def _get_suppression_job(ctx: ApiContext, kind: str, job_id: str) -> JSONAPIResponse:
    job = suppression_jobs.get_job(ctx.session, ctx.account_id, kind, job_id)
    fields = ctx.params.fields.get(suppression_jobs.TYPES[kind])
    return JSONAPIResponse(
        single(suppression_jobs.job_resource(ctx.urls, job, fields=fields), ctx.urls.current())
    )


@router.post(
    "/profile-suppression-bulk-create-jobs", operation_id="bulk_suppress_profiles", status_code=ACCEPTED
)
def bulk_suppress_profiles(
    document: SuppressQuery = Body(...), ctx: ApiContext = api("bulk_suppress_profiles")
) -> JSONAPIResponse:
    return _create_suppression_job(ctx, "suppress", document.data)


@router.get("/profile-suppression-bulk-create-jobs", operation_id="get_bulk_suppress_profiles_jobs")
def get_bulk_suppress_profiles_jobs(
    ctx: ApiContext = api("get_bulk_suppress_profiles_jobs"),
) -> JSONAPIResponse:
    return _list_suppression_jobs(ctx, "suppress", "get_bulk_suppress_profiles_jobs")


@router.get("/profile-suppression-bulk-create-jobs/{job_id}", operation_id="get_bulk_suppress_profiles_job")
def get_bulk_suppress_profiles_job(
    job_id: str, ctx: ApiContext = api("get_bulk_suppress_profiles_job")
) -> JSONAPIResponse:
    return _get_suppression_job(ctx, "suppress", job_id)


@router.post(
    "/profile-suppression-bulk-delete-jobs", operation_id="bulk_unsuppress_profiles", status_code=ACCEPTED
)
def bulk_unsuppress_profiles(
    document: UnsuppressQuery = Body(...), ctx: ApiContext = api("bulk_unsuppress_profiles")
) -> JSONAPIResponse:
    return _create_suppression_job(ctx, "unsuppress", document.data)


@router.get("/profile-suppression-bulk-delete-jobs", operation_id="get_bulk_unsuppress_profiles_jobs")
def get_bulk_unsuppress_profiles_jobs(
    ctx: ApiContext = api("get_bulk_unsuppress_profiles_jobs"),
) -> JSONAPIResponse:
    return _list_suppression_jobs(ctx, "unsuppress", "get_bulk_unsuppress_profiles_jobs")


@router.get("/profile-suppression-bulk-delete-jobs/{job_id}", operation_id="get_bulk_unsuppress_profiles_job")
def get_bulk_unsuppress_profiles_job(
    job_id: str, ctx: ApiContext = api("get_bulk_unsuppress_profiles_job")
) -> JSONAPIResponse:
    return _get_suppression_job(ctx, "unsuppress", job_id)
