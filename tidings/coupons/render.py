"""Coupons, codes and bulk jobs as JSON:API resources."""

from __future__ import annotations

from typing import Any

from tidings.coupons.tables import Coupon, CouponCode, CouponCodeJob
from tidings.jsonapi.documents import Urls, iso, relationship, resource

COUPONS, CODES, JOBS = "coupons", "coupon-codes", "coupon-code-bulk-create-jobs"


def coupon_resource(urls: Urls, coupon: Coupon, fields: list[str] | None = None) -> dict[str, Any]:
    attributes = {
        "external_id": coupon.id,
        "description": coupon.description,
        "monitor_configuration": coupon.monitor_configuration,
    }
    return resource("coupon", coupon.id, attributes, urls.resource(COUPONS, coupon.id), fields=fields)


def code_resource(urls: Urls, code: CouponCode, fields: list[str] | None = None) -> dict[str, Any]:
    attributes = {"unique_code": code.unique_code, "expires_at": iso(code.expires_at), "status": code.status}
    relationships = {
        "coupon": relationship(
            "coupon",
            code.coupon_id,
            urls.relationship(CODES, code.id, "coupon"),
            urls.related(CODES, code.id, "coupon"),
            many=False,
        ),
        "profile": {"data": {"type": "profile", "id": code.profile_id} if code.profile_id else None},
    }
    return resource(
        "coupon-code",
        code.id,
        attributes,
        urls.resource(CODES, code.id),
        relationships=relationships,
        fields=fields,
    )


def job_resource(urls: Urls, job: CouponCodeJob, fields: list[str] | None = None) -> dict[str, Any]:
    attributes = {
        "status": job.status,
        "created_at": iso(job.created_at),
        "total_count": job.total_count,
        "completed_count": job.completed_count,
        "failed_count": job.failed_count,
        "completed_at": iso(job.completed_at),
        "errors": job.errors or [],
        "expires_at": iso(job.expires_at),
    }
    # The codes the job made: linkage only (the spec has no route under a job for them).
    relationships = {"coupon-codes": {"data": [{"type": "coupon-code", "id": i} for i in job.code_ids or []]}}
    return resource(
        "coupon-code-bulk-create-job",
        job.id,
        attributes,
        urls.resource(JOBS, job.id),
        relationships=relationships,
        fields=fields,
    )
