"""Events and metrics: reads, metric properties and aggregates."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from tidings.events import aggregates, flow_triggers, service
from tidings.events.render import event_resource, metric_property_resource, metric_resource
from tidings.events.schemas import MetricAggregateQuery
from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, collection, single
from tidings.profiles import service as profiles_service
from tidings.profiles.render import profile_resource, profile_resources

router = APIRouter(prefix="/api", tags=["Events"])


def _included(ctx: ApiContext, events: list[Any]) -> list[dict[str, Any]] | None:
    """`include=metric,profile`: the related resources, once each."""
    if not ctx.params.include:
        return None
    included: list[dict[str, Any]] = []
    if "metric" in ctx.params.include:
        metrics = service.metrics_for(ctx.session, ctx.account_id, events)
        included += [metric_resource(ctx.urls, m, ctx.params.fields.get("metric")) for m in metrics]
    if "profile" in ctx.params.include:
        profiles = service.profiles_for(ctx.session, ctx.account_id, events)
        included += [profile_resource(ctx.urls, p, fields=ctx.params.fields.get("profile")) for p in profiles]
    return included


@router.get("/events", operation_id="get_events")
def get_events(ctx: ApiContext = api("get_events")) -> JSONAPIResponse:
    page = service.list_events(ctx.session, ctx.account_id, ctx.params, ctx.op.operation_id)
    data = [event_resource(ctx.urls, e, ctx.params.fields.get("event")) for e in page.rows]
    return JSONAPIResponse(
        collection(
            data,
            ctx.urls,
            page.next_cursor,
            page.prev_cursor,
            _included(ctx, page.rows),
            include=ctx.params.include,
        )
    )


@router.get("/events/{id}", operation_id="get_event")
def get_event(id: str, ctx: ApiContext = api("get_event")) -> JSONAPIResponse:
    event = service.get_event(ctx.session, ctx.account_id, id)
    data = event_resource(ctx.urls, event, ctx.params.fields.get("event"))
    return JSONAPIResponse(
        single(data, ctx.urls.current(), _included(ctx, [event]), include=ctx.params.include)
    )


@router.get("/events/{id}/metric", operation_id="get_metric_for_event")
def get_metric_for_event(id: str, ctx: ApiContext = api("get_metric_for_event")) -> JSONAPIResponse:
    event = service.get_event(ctx.session, ctx.account_id, id)
    metric = service.get_metric(ctx.session, ctx.account_id, event.metric_id)
    return JSONAPIResponse(
        single(metric_resource(ctx.urls, metric, ctx.params.fields.get("metric")), ctx.urls.current())
    )


@router.get("/events/{id}/relationships/metric", operation_id="get_metric_id_for_event")
def get_metric_id_for_event(id: str, ctx: ApiContext = api("get_metric_id_for_event")) -> JSONAPIResponse:
    event = service.get_event(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(
        {"data": {"type": "metric", "id": event.metric_id}, "links": {"self": ctx.urls.current()}}
    )


@router.get("/events/{id}/profile", operation_id="get_profile_for_event")
def get_profile_for_event(id: str, ctx: ApiContext = api("get_profile_for_event")) -> JSONAPIResponse:
    event = service.get_event(ctx.session, ctx.account_id, id)
    profile = profiles_service.get_profile(ctx.session, ctx.account_id, event.profile_id)
    [data] = profile_resources(
        ctx.session,
        ctx.account_id,
        ctx.urls,
        [profile],
        fields=ctx.params.fields.get("profile"),
        extra=ctx.params.additional_fields.get("profile", []),
    )
    return JSONAPIResponse(single(data, ctx.urls.current()))


@router.get("/events/{id}/relationships/profile", operation_id="get_profile_id_for_event")
def get_profile_id_for_event(id: str, ctx: ApiContext = api("get_profile_id_for_event")) -> JSONAPIResponse:
    event = service.get_event(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(
        {"data": {"type": "profile", "id": event.profile_id}, "links": {"self": ctx.urls.current()}}
    )


@router.get("/metrics", operation_id="get_metrics")
def get_metrics(ctx: ApiContext = api("get_metrics")) -> JSONAPIResponse:
    page = service.list_metrics(ctx.session, ctx.account_id, ctx.params, ctx.op.operation_id)
    data = [metric_resource(ctx.urls, m, ctx.params.fields.get("metric")) for m in page.rows]
    return JSONAPIResponse(
        collection(data, ctx.urls, page.next_cursor, page.prev_cursor, include=ctx.params.include)
    )


@router.get("/metrics/{id}", operation_id="get_metric")
def get_metric(id: str, ctx: ApiContext = api("get_metric")) -> JSONAPIResponse:
    metric = service.get_metric(ctx.session, ctx.account_id, id)
    data = metric_resource(ctx.urls, metric, ctx.params.fields.get("metric"))
    return JSONAPIResponse(single(data, ctx.urls.current(), include=ctx.params.include))


@router.get("/metrics/{id}/flow-triggers", operation_id="get_flows_triggered_by_metric")
def get_flows_triggered_by_metric(
    id: str, ctx: ApiContext = api("get_flows_triggered_by_metric")
) -> JSONAPIResponse:
    service.get_metric(ctx.session, ctx.account_id, id)
    fields = ctx.params.fields.get("flow")
    flows = flow_triggers.reader().flows(ctx.session, ctx.account_id, "metric", id, ctx.urls, fields)
    return JSONAPIResponse(collection(flows, ctx.urls))


@router.get("/metrics/{id}/relationships/flow-triggers", operation_id="get_ids_for_flows_triggered_by_metric")
def get_ids_for_flows_triggered_by_metric(
    id: str, ctx: ApiContext = api("get_ids_for_flows_triggered_by_metric")
) -> JSONAPIResponse:
    service.get_metric(ctx.session, ctx.account_id, id)
    ids = flow_triggers.reader().flow_ids(ctx.session, ctx.account_id, "metric", id)
    return JSONAPIResponse(collection([{"type": "flow", "id": i} for i in ids], ctx.urls))


def _samples(ctx: ApiContext) -> bool:
    return "sample_values" in ctx.params.additional_fields.get("metric-property", [])


@router.get("/metrics/{id}/metric-properties", operation_id="get_properties_for_metric")
def get_properties_for_metric(id: str, ctx: ApiContext = api("get_properties_for_metric")) -> JSONAPIResponse:
    props = service.metric_properties(ctx.session, ctx.account_id, id)
    fields = ctx.params.fields.get("metric-property")
    data = [metric_property_resource(ctx.urls, p, samples=_samples(ctx), fields=fields) for p in props]
    return JSONAPIResponse(collection(data, ctx.urls))


@router.get("/metrics/{id}/relationships/metric-properties", operation_id="get_property_ids_for_metric")
def get_property_ids_for_metric(
    id: str, ctx: ApiContext = api("get_property_ids_for_metric")
) -> JSONAPIResponse:
    props = service.metric_properties(ctx.session, ctx.account_id, id)
    data = [{"type": "metric-property", "id": p.id} for p in props]
    return JSONAPIResponse({"data": data, "links": {"self": ctx.urls.current()}})


@router.get("/metric-properties/{id}", operation_id="get_metric_property")
def get_metric_property(id: str, ctx: ApiContext = api("get_metric_property")) -> JSONAPIResponse:
    prop = service.get_metric_property(ctx.session, ctx.account_id, id)
    data = metric_property_resource(
        ctx.urls, prop, samples=_samples(ctx), fields=ctx.params.fields.get("metric-property")
    )
    included = None
    if "metric" in ctx.params.include:
        metric = service.get_metric(ctx.session, ctx.account_id, prop.metric_id)
        included = [metric_resource(ctx.urls, metric, ctx.params.fields.get("metric"))]
    return JSONAPIResponse(single(data, ctx.urls.current(), included, include=ctx.params.include))


@router.get("/metric-properties/{id}/metric", operation_id="get_metric_for_metric_property")
def get_metric_for_metric_property(
    id: str, ctx: ApiContext = api("get_metric_for_metric_property")
) -> JSONAPIResponse:
    prop = service.get_metric_property(ctx.session, ctx.account_id, id)
    metric = service.get_metric(ctx.session, ctx.account_id, prop.metric_id)
    return JSONAPIResponse(
        single(metric_resource(ctx.urls, metric, ctx.params.fields.get("metric")), ctx.urls.current())
    )


@router.get("/metric-properties/{id}/relationships/metric", operation_id="get_metric_id_for_metric_property")
def get_metric_id_for_metric_property(
    id: str, ctx: ApiContext = api("get_metric_id_for_metric_property")
) -> JSONAPIResponse:
    prop = service.get_metric_property(ctx.session, ctx.account_id, id)
    return JSONAPIResponse(
        {"data": {"type": "metric", "id": prop.metric_id}, "links": {"self": ctx.urls.current()}}
    )


@router.post("/metric-aggregates", operation_id="query_metric_aggregates")
def query_metric_aggregates(
    document: MetricAggregateQuery = Body(...), ctx: ApiContext = api("query_metric_aggregates", write=False)
) -> JSONAPIResponse:
    result = aggregates.query(ctx.session, ctx.account_id, document.data.attributes)
    self_url = ctx.urls.current()
    data = {
        "type": "metric-aggregate",
        "id": result.id,
        "attributes": {"dates": [d.isoformat() for d in result.dates], "data": result.rows},
        "links": {"self": self_url},
    }
    links: dict[str, Any] = {"self": self_url}
    if result.next_cursor:
        links["next"] = result.next_cursor
    return JSONAPIResponse({"data": data, "links": links}, status_code=200)
