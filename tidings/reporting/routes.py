"""The reporting endpoints: campaign values, flow values and flow series."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse
from tidings.reporting import service
from tidings.reporting.schemas import CampaignValuesQuery, FlowSeriesQuery, FlowValuesQuery
from tidings.reporting.service import Report
from tidings.reporting.sources import CAMPAIGNS, FLOWS

router = APIRouter(prefix="/api", tags=["Reporting"])

RELATED_TYPES = {"campaigns": "campaign", "flows": "flow", "flow-messages": "flow-message"}


def _document(ctx: ApiContext, resource: str, report: Report) -> JSONAPIResponse:
    attributes: dict[str, Any] = {"results": report.results}
    if report.date_times is not None:
        attributes["date_times"] = report.date_times
    wanted = ctx.params.fields.get(resource)
    if wanted:
        attributes = {key: value for key, value in attributes.items() if key in wanted}
    relationships = {
        name: {"data": [{"type": RELATED_TYPES[name], "id": rid} for rid in ids]}
        for name, ids in report.related.items()
    }
    data: dict[str, Any] = {"type": resource, "attributes": attributes}
    if relationships:
        data["relationships"] = relationships
    return JSONAPIResponse({"data": data, "links": {"self": ctx.urls.current()}})


@router.post("/campaign-values-reports", operation_id="query_campaign_values", status_code=200)
def query_campaign_values(
    document: CampaignValuesQuery = Body(...), ctx: ApiContext = api("query_campaign_values", write=False)
) -> JSONAPIResponse:
    report = service.values(ctx.session, ctx.account_id, CAMPAIGNS, document.data.attributes)
    return _document(ctx, "campaign-values-report", report)


@router.post("/flow-values-reports", operation_id="query_flow_values", status_code=200)
def query_flow_values(
    document: FlowValuesQuery = Body(...), ctx: ApiContext = api("query_flow_values", write=False)
) -> JSONAPIResponse:
    report = service.values(ctx.session, ctx.account_id, FLOWS, document.data.attributes)
    return _document(ctx, "flow-values-report", report)


@router.post("/flow-series-reports", operation_id="query_flow_series", status_code=200)
def query_flow_series(
    document: FlowSeriesQuery = Body(...), ctx: ApiContext = api("query_flow_series", write=False)
) -> JSONAPIResponse:
    report = service.series(ctx.session, ctx.account_id, FLOWS, document.data.attributes)
    return _document(ctx, "flow-series-report", report)
