"""Sending campaigns: send jobs (send, read, cancel or revert) and recipient estimations.

Each of these resources carries its campaign's id, as Klaviyo's do. A send job's resource
`meta` adds what the ledger knows of its messages: rows by status, and the skipped and failed
ones by reason (Tidings' addition; clients that do not know it ignore it).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response

from tidings.campaigns import estimation, sending
from tidings.campaigns.schemas import parse
from tidings.campaigns.schemas_jobs import EstimationJobCreate, SendJobCreate, SendJobUpdate
from tidings.campaigns.service import same_id
from tidings.campaigns.tables import CampaignRecipientEstimation, CampaignSendJob
from tidings.delivery.by_source import SourceReport
from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, single

router = APIRouter(prefix="/api", tags=["Campaigns"])


def _send_job(
    ctx: ApiContext,
    job: CampaignSendJob,
    reports: list[SourceReport] | None = None,
    ab_tests: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "type": "campaign-send-job",
        "id": job.id,
        "attributes": {"status": job.status},
        "links": {"self": ctx.urls.resource("campaign-send-jobs", job.id)},
    }
    if reports is not None:
        statuses: dict[str, int] = {}
        reasons: dict[str, dict[str, int]] = {}
        for report in reports:
            for status, count in report.statuses.items():
                statuses[status] = statuses.get(status, 0) + count
            for status, by_reason in report.reasons.items():
                for reason, count in by_reason.items():
                    reasons.setdefault(status, {})[reason] = reasons.get(status, {}).get(reason, 0) + count
        resource["meta"] = {
            "recipients": job.recipients,
            "sends": statuses,
            "skipped": reasons.get("skipped", {}),
            "failed": reasons.get("failed", {}),
        }
        if ab_tests:
            resource["meta"]["ab_test"] = ab_tests[0]  # one message per campaign
    return resource


def _estimation_job(ctx: ApiContext, estimation_row: CampaignRecipientEstimation) -> dict[str, Any]:
    return {
        "type": "campaign-recipient-estimation-job",
        "id": estimation_row.id,
        "attributes": {"status": estimation_row.status},
        "links": {"self": ctx.urls.resource("campaign-recipient-estimation-jobs", estimation_row.id)},
    }


@router.post("/campaign-send-jobs", operation_id="send_campaign", status_code=202)
def send_campaign(body: Any = Body(...), ctx: ApiContext = api("send_campaign")) -> JSONAPIResponse:
    document = parse(SendJobCreate, body)
    job = sending.request_send(ctx.session, ctx.account_id, document.data.id)
    data = _send_job(ctx, job)
    return JSONAPIResponse(single(data, data["links"]["self"]), status_code=202)


@router.get("/campaign-send-jobs/{id}", operation_id="get_campaign_send_job")
def get_campaign_send_job(id: str, ctx: ApiContext = api("get_campaign_send_job")) -> JSONAPIResponse:
    report = sending.send_job_report(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(
        single(_send_job(ctx, report.job, report.reports, report.ab_tests), ctx.urls.current())
    )


@router.patch("/campaign-send-jobs/{id}", operation_id="cancel_campaign_send", status_code=204)
def cancel_campaign_send(
    id: str, body: Any = Body(...), ctx: ApiContext = api("cancel_campaign_send")
) -> Response:
    document = parse(SendJobUpdate, body)
    same_id(id, document.data.id)
    sending.cancel_send(ctx.session, ctx.account_id, id, document.data.attributes.action)
    return Response(status_code=204)


@router.post(
    "/campaign-recipient-estimation-jobs",
    operation_id="refresh_campaign_recipient_estimation",
    status_code=202,
)
def refresh_campaign_recipient_estimation(
    body: Any = Body(...), ctx: ApiContext = api("refresh_campaign_recipient_estimation")
) -> JSONAPIResponse:
    document = parse(EstimationJobCreate, body)
    row = estimation.request_estimation(ctx.session, ctx.account_id, document.data.id)
    data = _estimation_job(ctx, row)
    return JSONAPIResponse(single(data, data["links"]["self"]), status_code=202)


@router.get("/campaign-recipient-estimation-jobs/{id}", operation_id="get_campaign_recipient_estimation_job")
def get_campaign_recipient_estimation_job(
    id: str, ctx: ApiContext = api("get_campaign_recipient_estimation_job")
) -> JSONAPIResponse:
    row = estimation.get_estimation_job(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(single(_estimation_job(ctx, row), ctx.urls.current()))


@router.get("/campaign-recipient-estimations/{id}", operation_id="get_campaign_recipient_estimation")
def get_campaign_recipient_estimation(
    id: str, ctx: ApiContext = api("get_campaign_recipient_estimation")
) -> JSONAPIResponse:
    row = estimation.get_estimation(ctx.session, ctx.account_id, id)
    data = {
        "type": "campaign-recipient-estimation",
        "id": row.id,
        "attributes": {"estimated_recipient_count": row.estimated_recipient_count},
        "links": {"self": ctx.urls.resource("campaign-recipient-estimations", row.id)},
    }
    return JSONAPIResponse(single(data, ctx.urls.current()))
