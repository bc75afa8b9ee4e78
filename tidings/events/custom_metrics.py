"""Custom metrics: a union of the account's metrics, each with optional property filters and the
property its value is read from; and the one expansion every reader uses.

    expansion = expand(session, account_id, metric_id)   # None: not a custom metric
    expansion.groups                                      # (metric_id, metric_filters, value_property)
    member_clause(session, account_id, expansion, Event)  # SQL: "this event is one of its members"
    value_expression(session, expansion, Event)           # SQL: the member event's value

Readers: metric aggregates (events.aggregates), segment metric conditions (segments.sql's
metric_events), flow trigger validation (flows), and the flow executor, which expands a trigger
id to member metric ids plus filters with `expand`. A definition names each metric once (a 400
otherwise), so an event belongs to at most one group: counting the members' events once each and
summing the groups' counts give the same number.

The property filters are the segment filters of the spec (CustomMetricCondition's filter union
is segments' metric-property filter union); their SQL is written once, by the segments compiler,
which the composition root hands to `set_filters` (segments stand above events). Until it does, a
definition with filters is refused and none is evaluated.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import and_, case, false, or_, select, update
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.dialect import json_number
from tidings.events.tables import CustomMetric, MappedMetric, Metric
from tidings.jsonapi.errors import APIError, Conflict, ErrorList, InvalidInput, NotFound

POINTER = "/data/attributes"
MAX_GROUPS = 20  # [INF] Klaviyo gives no number
CUSTOM_ID = re.compile(r"^[0-9a-f]{32}$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MetricCondition(Strict):
    property: str = Field(min_length=1, max_length=255)
    filter: dict[str, Any]


class MetricGroup(Strict):
    metric_id: str = Field(min_length=1, max_length=64)
    metric_filters: list[MetricCondition] | None = None
    value_property: str | None = Field(None, min_length=1, max_length=255)


class CustomMetricDefinition(Strict):
    aggregation_method: Literal["count", "value"]
    metric_groups: list[MetricGroup] = Field(min_length=1, max_length=MAX_GROUPS)


# --------------------------------------------------------------------------- the filters' SQL


class MemberFilters(Protocol):
    """Property filters on a metric's events (the segments compiler implements it)."""

    def check(
        self, session: Session, account_id: str, filters: list[dict[str, Any]]
    ) -> list[tuple[str, str]]:
        """Problems of these filters: (pointer relative to the list, message)."""
        ...

    def clause(self, session: Session, account_id: str, events: Any, filters: list[dict[str, Any]]) -> Any:
        """SQL: the event (a row of `events`) passes every filter."""
        ...


class NoFilters:
    def check(
        self, session: Session, account_id: str, filters: list[dict[str, Any]]
    ) -> list[tuple[str, str]]:
        return [("", "Property filters are not available.")] if filters else []

    def clause(self, session: Session, account_id: str, events: Any, filters: list[dict[str, Any]]) -> Any:
        return false() if filters else None


_filters: MemberFilters = NoFilters()


def set_filters(filters: MemberFilters) -> None:
    global _filters
    _filters = filters


def filters() -> MemberFilters:
    return _filters


# --------------------------------------------------------------------------- expansion


@dataclass(frozen=True)
class MemberGroup:
    metric_id: str
    metric_filters: tuple[dict[str, Any], ...]  # [{"property": ..., "filter": {...}}]
    value_property: str | None  # None or "$value": the event's value


@dataclass(frozen=True)
class Expansion:
    id: str
    name: str
    aggregation_method: str
    groups: tuple[MemberGroup, ...]

    @property
    def metric_ids(self) -> list[str]:
        return [g.metric_id for g in self.groups]


def is_custom_id(metric_id: str) -> bool:
    return CUSTOM_ID.match(metric_id) is not None


def _expansion(row: CustomMetric) -> Expansion:
    definition = row.definition or {}
    groups = tuple(
        MemberGroup(
            metric_id=str(g["metric_id"]),
            metric_filters=tuple(g.get("metric_filters") or ()),
            value_property=g.get("value_property"),
        )
        for g in definition.get("metric_groups", [])
    )
    return Expansion(row.id, row.name, str(definition.get("aggregation_method", "count")), groups)


def expand(session: Session, account_id: str, metric_id: str) -> Expansion | None:
    """The custom metric with this id, as its member metrics and filters; None when it is not one
    (a plain metric id, or another account's)."""
    if not is_custom_id(metric_id):
        return None
    row = session.get(CustomMetric, (account_id, metric_id))
    return None if row is None else _expansion(row)


def existing_ids(session: Session, account_id: str, ids: Iterable[str]) -> set[str]:
    wanted = {i for i in ids if is_custom_id(i)}
    if not wanted:
        return set()
    stmt = select(CustomMetric.id).where(CustomMetric.account_id == account_id, CustomMetric.id.in_(wanted))
    return set(session.execute(stmt).scalars())


def member_clause(session: Session, account_id: str, expansion: Expansion, events: Any) -> Any:
    """SQL: the event (a row of `events`) is a member: of one group's metric, passing its filters."""
    parts = []
    for group in expansion.groups:
        where = [events.metric_id == group.metric_id]
        if group.metric_filters:
            where.append(_filters.clause(session, account_id, events, list(group.metric_filters)))
        parts.append(and_(*where))
    return and_(events.account_id == account_id, or_(false(), *parts))


def value_expression(session: Session, expansion: Expansion, events: Any) -> Any:
    """SQL: a member event's value, read from its group's value property (default: `$value`)."""
    custom = [g for g in expansion.groups if g.value_property not in (None, "$value")]
    if not custom:
        return events.value
    whens = [
        (events.metric_id == g.metric_id, json_number(session, events.properties, str(g.value_property)))
        for g in custom
    ]
    return case(*whens, else_=events.value)


# --------------------------------------------------------------------------- CRUD


def list_custom_metrics(session: Session, account_id: str) -> list[CustomMetric]:
    stmt = select(CustomMetric).where(CustomMetric.account_id == account_id).order_by(CustomMetric.created)
    return list(session.execute(stmt).scalars())


def get_custom_metric(session: Session, account_id: str, custom_metric_id: str) -> CustomMetric:
    row = (
        session.get(CustomMetric, (account_id, custom_metric_id)) if is_custom_id(custom_metric_id) else None
    )
    if row is None:
        raise NotFound(f"A custom metric with id {custom_metric_id} does not exist.")
    return row


def parse_definition(raw: Any) -> CustomMetricDefinition:
    try:
        return CustomMetricDefinition.model_validate(raw)
    except ValidationError as error:
        problems: list[APIError] = [
            InvalidInput(e["msg"], pointer="/".join([f"{POINTER}/definition", *(str(p) for p in e["loc"])]))
            for e in error.errors()
        ]
        raise ErrorList(problems) from None


def check_definition(session: Session, account_id: str, definition: CustomMetricDefinition) -> dict[str, Any]:
    """The definition as stored, or a 400 naming every problem: unknown metrics (another account's
    too), a metric named twice, filters the segment engine does not take."""
    where = f"{POINTER}/definition/metric_groups"
    ids = [g.metric_id for g in definition.metric_groups]
    known = set(
        session.execute(
            select(Metric.id).where(Metric.account_id == account_id, Metric.id.in_(ids))
        ).scalars()
    )
    errors: list[APIError] = []
    seen: set[str] = set()
    for index, group in enumerate(definition.metric_groups):
        if group.metric_id not in known:
            errors.append(
                InvalidInput(
                    f"A metric with id {group.metric_id} does not exist.",
                    pointer=f"{where}/{index}/metric_id",
                )
            )
        if group.metric_id in seen:
            errors.append(
                InvalidInput(
                    f"Metric {group.metric_id} is in more than one group: put its filters in one group.",
                    pointer=f"{where}/{index}/metric_id",
                )
            )
        seen.add(group.metric_id)
        raw = [c.model_dump() for c in group.metric_filters or []]
        for relative, message in _filters.check(session, account_id, raw):
            errors.append(InvalidInput(message, pointer=f"{where}/{index}/metric_filters{relative}"))
    if errors:
        raise ErrorList(errors)
    return definition.model_dump(exclude_none=False)


def _free_name(session: Session, account_id: str, name: str, custom_metric_id: str | None = None) -> None:
    stmt = select(CustomMetric.id).where(CustomMetric.account_id == account_id, CustomMetric.name == name)
    other = session.execute(stmt).scalar()
    if other is not None and other != custom_metric_id:
        raise InvalidInput(
            f"A custom metric named {name!r} already exists.", pointer=f"{POINTER}/name", code="duplicate"
        )


def create_custom_metric(session: Session, account_id: str, name: str, raw_definition: Any) -> CustomMetric:
    definition = check_definition(session, account_id, parse_definition(raw_definition))
    _free_name(session, account_id, name)
    now = utcnow()
    row = CustomMetric(
        account_id=account_id, id=uuid.uuid4().hex, name=name, definition=definition, created=now, updated=now
    )
    session.add(row)
    session.flush()
    return row


def update_custom_metric(
    session: Session,
    account_id: str,
    custom_metric_id: str,
    body_id: str,
    name: str | None,
    raw_definition: Any | None,
) -> CustomMetric:
    if body_id != custom_metric_id:
        raise Conflict("The id in the body does not match the id in the path.", pointer="/data/id")
    row = get_custom_metric(session, account_id, custom_metric_id)
    if raw_definition is not None:
        row.definition = check_definition(session, account_id, parse_definition(raw_definition))
    if name is not None:
        _free_name(session, account_id, name, custom_metric_id)
        row.name = name
    row.updated = utcnow()
    session.flush()
    return row


def delete_custom_metric(session: Session, account_id: str, custom_metric_id: str) -> None:
    """Deleting a custom metric also unmaps the conversion kinds mapped to it."""
    row = get_custom_metric(session, account_id, custom_metric_id)
    session.execute(
        update(MappedMetric)
        .where(MappedMetric.account_id == account_id, MappedMetric.custom_metric_id == custom_metric_id)
        .values(custom_metric_id=None, updated=utcnow())
    )
    session.delete(row)
    session.flush()


def member_metrics(session: Session, account_id: str, row: CustomMetric) -> list[Metric]:
    ids = _expansion(row).metric_ids
    found = {
        m.id: m
        for m in session.execute(
            select(Metric).where(Metric.account_id == account_id, Metric.id.in_(ids))
        ).scalars()
    }
    return [found[i] for i in ids if i in found]
