"""Custom metrics (8 operations) and mapped metrics (7 operations)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response

from tidings.events import custom_metrics, mapped_metrics
from tidings.events.render import metric_resource
from tidings.events.schemas import CustomMetricCreateQuery, CustomMetricUpdateQuery, MappedMetricUpdateQuery
from tidings.events.tables import CustomMetric, Metric
from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, Urls, collection, iso, relationship, resource, single

router = APIRouter(prefix="/api", tags=["Metrics"])


def custom_metric_resource(urls: Urls, row: CustomMetric, fields: list[str] | None = None) -> dict[str, Any]:
    definition = row.definition or {}
    attributes = {
        "name": row.name,
        "created": iso(row.created),
        "updated": iso(row.updated),
        "definition": definition,
    }
    ids = [str(g["metric_id"]) for g in definition.get("metric_groups", [])]
    relationships = {
        "metrics": relationship(
            "metric",
            ids,
            urls.relationship("custom-metrics", row.id, "metrics"),
            urls.related("custom-metrics", row.id, "metrics"),
            many=True,
        )
    }
    return resource(
        "custom-metric",
        row.id,
        attributes,
        urls.resource("custom-metrics", row.id),
        relationships=relationships,
        fields=fields,
    )


def mapped_metric_resource(
    urls: Urls, mapping: mapped_metrics.Mapping, fields: list[str] | None = None
) -> dict[str, Any]:
    relationships = {
        "metric": relationship(
            "metric",
            mapping.metric_id,
            urls.relationship("mapped-metrics", mapping.id, "metric"),
            urls.related("mapped-metrics", mapping.id, "metric"),
            many=False,
        ),
        "custom-metric": relationship(
            "custom-metric",
            mapping.custom_metric_id,
            urls.relationship("mapped-metrics", mapping.id, "custom-metric"),
            urls.related("mapped-metrics", mapping.id, "custom-metric"),
            many=False,
        ),
    }
    return resource(
        "mapped-metric",
        mapping.id,
        {"updated": iso(mapping.updated)},
        urls.resource("mapped-metrics", mapping.id),
        relationships=relationships,
        fields=fields,
    )


def _metrics(ctx: ApiContext, metrics: list[Metric]) -> list[dict[str, Any]]:
    return [metric_resource(ctx.urls, m, ctx.params.fields.get("metric")) for m in metrics]


def _custom_included(ctx: ApiContext, rows: list[CustomMetric]) -> list[dict[str, Any]] | None:
    if "metrics" not in ctx.params.include:
        return None
    seen: dict[str, Metric] = {}
    for row in rows:
        for metric in custom_metrics.member_metrics(ctx.session, ctx.account_id, row):
            seen.setdefault(metric.id, metric)
    return _metrics(ctx, list(seen.values()))


# ------------------------------------------------------------------------------ custom metrics


@router.get("/custom-metrics", operation_id="get_custom_metrics")
def get_custom_metrics(ctx: ApiContext = api("get_custom_metrics")) -> JSONAPIResponse:
    rows = custom_metrics.list_custom_metrics(ctx.session, ctx.account_id)
    fields = ctx.params.fields.get("custom-metric")
    data = [custom_metric_resource(ctx.urls, r, fields) for r in rows]
    return JSONAPIResponse(
        collection(data, ctx.urls, None, None, _custom_included(ctx, rows), include=ctx.params.include)
    )


@router.post("/custom-metrics", operation_id="create_custom_metric", status_code=201)
def create_custom_metric(
    document: CustomMetricCreateQuery = Body(...), ctx: ApiContext = api("create_custom_metric")
) -> JSONAPIResponse:
    attrs = document.data.attributes
    row = custom_metrics.create_custom_metric(ctx.session, ctx.account_id, attrs.name, attrs.definition)
    data = custom_metric_resource(ctx.urls, row, ctx.params.fields.get("custom-metric"))
    return JSONAPIResponse(single(data, data["links"]["self"]), status_code=201)


@router.get("/custom-metrics/{id}", operation_id="get_custom_metric")
def get_custom_metric(id: str, ctx: ApiContext = api("get_custom_metric")) -> JSONAPIResponse:
    row = custom_metrics.get_custom_metric(ctx.session, ctx.account_id, id)
    data = custom_metric_resource(ctx.urls, row, ctx.params.fields.get("custom-metric"))
    return JSONAPIResponse(
        single(data, ctx.urls.current(), _custom_included(ctx, [row]), include=ctx.params.include)
    )


@router.patch("/custom-metrics/{id}", operation_id="update_custom_metric")
def update_custom_metric(
    id: str, document: CustomMetricUpdateQuery = Body(...), ctx: ApiContext = api("update_custom_metric")
) -> JSONAPIResponse:
    attrs = document.data.attributes
    row = custom_metrics.update_custom_metric(
        ctx.session, ctx.account_id, id, document.data.id, attrs.name, attrs.definition
    )
    data = custom_metric_resource(ctx.urls, row, ctx.params.fields.get("custom-metric"))
    return JSONAPIResponse(single(data, ctx.urls.current()))


@router.delete("/custom-metrics/{id}", operation_id="delete_custom_metric", status_code=204)
def delete_custom_metric(id: str, ctx: ApiContext = api("delete_custom_metric")) -> Response:
    custom_metrics.delete_custom_metric(ctx.session, ctx.account_id, id)
    return Response(status_code=204)


@router.get("/custom-metrics/{id}/metrics", operation_id="get_metrics_for_custom_metric")
def get_metrics_for_custom_metric(
    id: str, ctx: ApiContext = api("get_metrics_for_custom_metric")
) -> JSONAPIResponse:
    row = custom_metrics.get_custom_metric(ctx.session, ctx.account_id, id)
    metrics = custom_metrics.member_metrics(ctx.session, ctx.account_id, row)
    return JSONAPIResponse(collection(_metrics(ctx, metrics), ctx.urls))


@router.get("/custom-metrics/{id}/relationships/metrics", operation_id="get_metric_ids_for_custom_metric")
def get_metric_ids_for_custom_metric(
    id: str, ctx: ApiContext = api("get_metric_ids_for_custom_metric")
) -> JSONAPIResponse:
    row = custom_metrics.get_custom_metric(ctx.session, ctx.account_id, id)
    metrics = custom_metrics.member_metrics(ctx.session, ctx.account_id, row)
    data = [{"type": "metric", "id": m.id} for m in metrics]
    return JSONAPIResponse({"data": data, "links": {"self": ctx.urls.current()}})


# ------------------------------------------------------------------------------ mapped metrics


def _mapped_included(ctx: ApiContext, mappings: list[mapped_metrics.Mapping]) -> list[dict[str, Any]] | None:
    if not ctx.params.include:
        return None
    included: list[dict[str, Any]] = []
    if "metric" in ctx.params.include:
        ids = {m.metric_id for m in mappings if m.metric_id}
        metrics = [ctx.session.get(Metric, (ctx.account_id, i)) for i in sorted(ids)]
        included += _metrics(ctx, [m for m in metrics if m is not None])
    if "custom-metric" in ctx.params.include:
        ids = {m.custom_metric_id for m in mappings if m.custom_metric_id}
        fields = ctx.params.fields.get("custom-metric")
        for custom_id in sorted(ids):
            row = custom_metrics.get_custom_metric(ctx.session, ctx.account_id, custom_id)
            included.append(custom_metric_resource(ctx.urls, row, fields))
    return included


@router.get("/mapped-metrics", operation_id="get_mapped_metrics")
def get_mapped_metrics(ctx: ApiContext = api("get_mapped_metrics")) -> JSONAPIResponse:
    mappings = mapped_metrics.list_mappings(ctx.session, ctx.account_id)
    fields = ctx.params.fields.get("mapped-metric")
    data = [mapped_metric_resource(ctx.urls, m, fields) for m in mappings]
    return JSONAPIResponse(
        collection(data, ctx.urls, None, None, _mapped_included(ctx, mappings), include=ctx.params.include)
    )


@router.get("/mapped-metrics/{id}", operation_id="get_mapped_metric")
def get_mapped_metric(id: str, ctx: ApiContext = api("get_mapped_metric")) -> JSONAPIResponse:
    mapping = mapped_metrics.get_mapping(ctx.session, ctx.account_id, id)
    data = mapped_metric_resource(ctx.urls, mapping, ctx.params.fields.get("mapped-metric"))
    return JSONAPIResponse(
        single(data, ctx.urls.current(), _mapped_included(ctx, [mapping]), include=ctx.params.include)
    )


@router.patch("/mapped-metrics/{id}", operation_id="update_mapped_metric")
def update_mapped_metric(
    id: str, document: MappedMetricUpdateQuery = Body(...), ctx: ApiContext = api("update_mapped_metric")
) -> JSONAPIResponse:
    current = mapped_metrics.get_mapping(ctx.session, ctx.account_id, id)
    metric_id, custom_id = current.metric_id, current.custom_metric_id
    rels = document.data.relationships
    if rels is not None:
        given = rels.model_fields_set
        if "metric" in given:
            metric_id = rels.metric.data.id if rels.metric and rels.metric.data else None
            if metric_id is not None and "custom_metric" not in given:
                custom_id = None
        if "custom_metric" in given:
            custom_id = rels.custom_metric.data.id if rels.custom_metric and rels.custom_metric.data else None
            if custom_id is not None and "metric" not in given:
                metric_id = None
    mapping = mapped_metrics.update_mapping(
        ctx.session, ctx.account_id, id, document.data.id, metric_id, custom_id
    )
    data = mapped_metric_resource(ctx.urls, mapping, ctx.params.fields.get("mapped-metric"))
    return JSONAPIResponse(single(data, ctx.urls.current()))


@router.get("/mapped-metrics/{id}/metric", operation_id="get_metric_for_mapped_metric")
def get_metric_for_mapped_metric(
    id: str, ctx: ApiContext = api("get_metric_for_mapped_metric")
) -> JSONAPIResponse:
    mapping = mapped_metrics.get_mapping(ctx.session, ctx.account_id, id)
    metric = ctx.session.get(Metric, (ctx.account_id, mapping.metric_id)) if mapping.metric_id else None
    data = None if metric is None else metric_resource(ctx.urls, metric, ctx.params.fields.get("metric"))
    return JSONAPIResponse({"data": data, "links": {"self": ctx.urls.current()}})


@router.get("/mapped-metrics/{id}/relationships/metric", operation_id="get_metric_id_for_mapped_metric")
def get_metric_id_for_mapped_metric(
    id: str, ctx: ApiContext = api("get_metric_id_for_mapped_metric")
) -> JSONAPIResponse:
    mapping = mapped_metrics.get_mapping(ctx.session, ctx.account_id, id)
    data = {"type": "metric", "id": mapping.metric_id} if mapping.metric_id else None
    return JSONAPIResponse({"data": data, "links": {"self": ctx.urls.current()}})


@router.get("/mapped-metrics/{id}/custom-metric", operation_id="get_custom_metric_for_mapped_metric")
def get_custom_metric_for_mapped_metric(
    id: str, ctx: ApiContext = api("get_custom_metric_for_mapped_metric")
) -> JSONAPIResponse:
    mapping = mapped_metrics.get_mapping(ctx.session, ctx.account_id, id)
    data = None
    if mapping.custom_metric_id:
        row = custom_metrics.get_custom_metric(ctx.session, ctx.account_id, mapping.custom_metric_id)
        data = custom_metric_resource(ctx.urls, row, ctx.params.fields.get("custom-metric"))
    return JSONAPIResponse({"data": data, "links": {"self": ctx.urls.current()}})


@router.get(
    "/mapped-metrics/{id}/relationships/custom-metric", operation_id="get_custom_metric_id_for_mapped_metric"
)
def get_custom_metric_id_for_mapped_metric(
    id: str, ctx: ApiContext = api("get_custom_metric_id_for_mapped_metric")
) -> JSONAPIResponse:
    mapping = mapped_metrics.get_mapping(ctx.session, ctx.account_id, id)
    data = {"type": "custom-metric", "id": mapping.custom_metric_id} if mapping.custom_metric_id else None
    return JSONAPIResponse({"data": data, "links": {"self": ctx.urls.current()}})
