"""The SQL of a custom metric's property filters, for the events domain below (events.custom_metrics
asks its `MemberFilters`; the composition root hands it this one). The filters are the segment
engine's metric-property filters, compiled by the same code as a segment's metric conditions."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, column, true
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.segments.definition import MetricPropertyFilter
from tidings.segments.sql import Context, Unsupported, apply_filter, json_value


def _parse(filters: list[dict[str, Any]]) -> list[MetricPropertyFilter]:
    return [MetricPropertyFilter.model_validate(f) for f in filters]


class SegmentMetricFilters:
    def check(
        self, session: Session, account_id: str, filters: list[dict[str, Any]]
    ) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        for index, raw in enumerate(filters):
            try:
                [parsed] = _parse([raw])
            except ValidationError as error:
                for e in error.errors():
                    problems.append(("/".join(["", str(index), *(str(p) for p in e["loc"])]), e["msg"]))
                continue
            if parsed.filter is None:
                problems.append((f"/{index}/filter", "A metric filter needs a filter."))
                continue
            try:
                self._clause(session, account_id, None, [parsed])
            except Unsupported as exc:
                problems.append((f"/{index}/filter{exc.where.removeprefix('/filter')}", str(exc)))
        return problems

    def clause(self, session: Session, account_id: str, events: Any, filters: list[dict[str, Any]]) -> Any:
        return self._clause(session, account_id, events, _parse(filters))

    @staticmethod
    def _clause(session: Session, account_id: str, events: Any, parsed: list[MetricPropertyFilter]) -> Any:
        from_events = column("properties") if events is None else events.properties  # None: a dry compile
        ctx = Context(session=session, account_id=account_id, now=utcnow())
        parts = [
            apply_filter(ctx, json_value(session, from_events, f.property), f.filter)
            for f in parsed
            if f.filter is not None
        ]
        return and_(true(), *parts)


METRIC_FILTERS = SegmentMetricFilters()
