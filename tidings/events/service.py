"""Reading events and metrics (writing goes through store.py; ingestion through ingest/)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from tidings.events import repository
from tidings.events.metrics import INTEGRATIONS
from tidings.events.tables import Event, Metric, MetricProperty
from tidings.jsonapi.errors import NotFound
from tidings.jsonapi.filters import FilterField, compile_filter
from tidings.jsonapi.pagination import Page, paginate
from tidings.jsonapi.params import QueryParams
from tidings.profiles.repository import profiles_by_ids
from tidings.profiles.tables import Profile

METRICS_PAGE_SIZE = 200
# Events list oldest first unless asked otherwise. Cursors carry the sort spelled out, so a
# client that adds `sort=datetime` to a cursor made without one asks for the same order.
DEFAULT_EVENT_SORT = "datetime"


EVENT_FILTERS = {
    "metric_id": FilterField(Event.metric_id),
    "profile_id": FilterField(Event.profile_id),
    "profile": FilterField(Event.profile_id),
    "metric": FilterField(Event.metric_id),
    "datetime": FilterField(Event.time, kind="datetime"),
    "timestamp": FilterField(Event.time, kind="timestamp"),  # Unix seconds
}

METRIC_FILTERS = {
    "integration.name": FilterField(
        build=lambda op, value: _integration(Metric.integration_key, "name", value)
    ),
    "integration.category": FilterField(
        build=lambda op, value: _integration(Metric.integration_key, "category", value)
    ),
}


def _integration(column: Any, attribute: str, value: Any) -> ColumnElement[bool]:
    keys = [
        key
        for key, info in INTEGRATIONS.items()
        if str(info.get(attribute, "")).lower() == str(value).lower()
    ]
    return column.in_(keys)


def list_events(session: Session, account_id: str, params: QueryParams, operation: str) -> Page:
    stmt = repository.events_query(account_id)
    if params.filter is not None:
        stmt = stmt.where(compile_filter(params.filter, EVENT_FILTERS))
    return paginate(
        session,
        stmt,
        operation=operation,
        sort_column=Event.time,
        id_column=Event.id,
        descending=params.descending,
        size=params.page_size,
        cursor=params.cursor,
        sort=params.sort or DEFAULT_EVENT_SORT,
        filter_text=params.filter_text,
    )


def get_event(session: Session, account_id: str, event_id: str) -> Event:
    event = repository.get_event(session, account_id, event_id)
    if event is None:
        raise NotFound(f"An event with id {event_id} does not exist.")
    return event


def get_metric(session: Session, account_id: str, metric_id: str) -> Metric:
    metric = repository.get_metric(session, account_id, metric_id)
    if metric is None:
        raise NotFound(f"A metric with id {metric_id} does not exist.")
    return metric


def list_metrics(session: Session, account_id: str, params: QueryParams, operation: str) -> Page:
    stmt = repository.metrics_query(account_id)
    if params.filter is not None:
        stmt = stmt.where(compile_filter(params.filter, METRIC_FILTERS))
    return paginate(
        session,
        stmt,
        operation=operation,
        sort_column=Metric.id,
        id_column=Metric.id,
        descending=False,
        size=METRICS_PAGE_SIZE,  # the spec gives get_metrics no page[size]
        cursor=params.cursor,
        sort=None,
        filter_text=params.filter_text,
    )


def metrics_for(session: Session, account_id: str, events: list[Event]) -> list[Metric]:
    found = repository.metrics_by_id(session, account_id, {e.metric_id for e in events})
    return [found[i] for i in sorted(found)]


def profiles_for(session: Session, account_id: str, events: list[Event]) -> list[Profile]:
    found = profiles_by_ids(session, account_id, sorted({e.profile_id for e in events}))
    return [found[i] for i in sorted(found)]


def metric_properties(session: Session, account_id: str, metric_id: str) -> list[MetricProperty]:
    get_metric(session, account_id, metric_id)
    return repository.metric_properties(session, account_id, metric_id)


def get_metric_property(session: Session, account_id: str, property_id: str) -> MetricProperty:
    prop = repository.get_metric_property(session, account_id, property_id)
    if prop is None:
        raise NotFound(f"A metric property with id {property_id} does not exist.")
    return prop
