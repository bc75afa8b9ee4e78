"""Campaign and flow reports: the request checked, the counts asked of the repository, the
statistics derived from them (rates as fractions in [0, 1], 0 when the denominator is 0)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from tidings.events import custom_metrics
from tidings.events import repository as events
from tidings.events.aggregates import bucket_starts
from tidings.jsonapi.errors import InvalidInput
from tidings.jsonapi.filters import Comparison, Logical, Node, parse_filter
from tidings.reporting import repository
from tidings.reporting.repository import Bucket, Counted
from tidings.reporting.schemas import FlowSeriesAttributes, ReportAttributes
from tidings.reporting.sources import KNOWN_CHANNELS, UNSUPPORTED, Source
from tidings.segments.reports import INTERVALS, MAX_SPAN, window

POINTER = "/data/attributes"
MAX_TIMEFRAME = dt.timedelta(days=366)  # "Max length: 1 year" (a leap year's last_year included)
MAX_LIST_FILTER = 100
LIST_FILTERS = ("tag_id", "tag_name")
# SMS costs Tidings does not know (it keeps no provider prices or segment counts): always 0.
NOT_KEPT = (
    "message_segment_count_sum",
    "text_message_credit_usage_amount",
    "text_message_roi",
    "text_message_spend",
)


@dataclass
class Report:
    results: list[dict[str, Any]]
    date_times: list[str] | None = None
    related: dict[str, list[str]] = field(default_factory=dict)


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def statistics(counts: dict[str, float]) -> dict[str, float]:
    """Every statistic of the spec's enum from the counts of one grouping (and bucket)."""
    recipients = counts["recipients"]
    bounced, failed = counts["bounced"], counts["failed"]
    delivered = recipients - bounced - failed
    opens_unique, clicks_unique = counts["opens_unique"], counts["clicks_unique"]
    value, conversions = counts["conversion_value"], counts["conversions"]
    derived = {
        **{name: int(counts[name]) for name in repository.COUNTS if name != "conversion_value"},
        "conversion_value": value,
        "delivered": int(delivered),
        "bounced_or_failed": int(bounced + failed),
        "delivery_rate": _ratio(delivered, recipients),
        "bounce_rate": _ratio(bounced, recipients),
        "failed_rate": _ratio(failed, recipients),
        "bounced_or_failed_rate": _ratio(bounced + failed, recipients),
        "open_rate": _ratio(opens_unique, delivered),
        "click_rate": _ratio(clicks_unique, delivered),
        "click_to_open_rate": _ratio(clicks_unique, opens_unique),
        "unsubscribe_rate": _ratio(counts["unsubscribe_uniques"], delivered),
        "spam_complaint_rate": _ratio(counts["spam_complaints"], delivered),
        "conversion_rate": _ratio(counts["conversion_uniques"], delivered),
        "revenue_per_recipient": _ratio(value, delivered),
        "average_order_value": _ratio(value, conversions),
    }
    for name in NOT_KEPT:
        derived[name] = 0
    return derived


def _group_by(source: Source, requested: Sequence[str] | None) -> list[str]:
    if requested is None:
        return list(source.default_group_by)
    chosen = list(dict.fromkeys(requested))
    missing = [name for name in source.required_group_by if name not in chosen]
    if missing:
        raise InvalidInput(
            f"group_by must include {', '.join(source.required_group_by)} (missing {', '.join(missing)}).",
            pointer=f"{POINTER}/group_by",
        )
    for index, name in enumerate(chosen):
        if name in UNSUPPORTED:
            raise InvalidInput(
                f"Tidings cannot group reports by {name!r} yet.", pointer=f"{POINTER}/group_by/{index}"
            )
    return chosen


def _bad_filter(detail: str) -> InvalidInput:
    return InvalidInput(detail, pointer=f"{POINTER}/filter")


def _conditions(source: Source, columns: dict[str, Any], text: str | None) -> list[Any]:
    if text is None or not text.strip():
        return []
    try:
        node: Node = parse_filter(text)
    except InvalidInput as error:
        raise _bad_filter(error.detail) from None
    items = node.items if isinstance(node, Logical) and node.op == "and" else (node,)
    seen: set[str] = set()
    clauses: list[Any] = []
    for item in items:
        if not isinstance(item, Comparison):
            raise _bad_filter("Report filters combine comparisons with and(...) only.")
        name, op, value = item.field, item.op, item.value
        if name in UNSUPPORTED and (name in source.scalar_filters or name in LIST_FILTERS):
            raise _bad_filter(f"Tidings cannot filter reports on {name!r} yet.")
        if name not in source.scalar_filters:
            allowed = ", ".join(source.scalar_filters)
            raise _bad_filter(f"Cannot filter on {name!r}: the report filters on {allowed}.")
        if name in seen:
            raise _bad_filter(f"Only one filter can be used per attribute ({name!r}).")
        seen.add(name)
        if op not in ("equals", "contains-any"):
            raise _bad_filter(f"Operator {op!r} is not supported on {name!r}: use equals or contains-any.")
        wanted = value if isinstance(value, list) else [value]
        if op == "contains-any" and not isinstance(value, list):
            raise _bad_filter(f"contains-any on {name!r} takes a list.")
        if op == "equals" and isinstance(value, list):
            raise _bad_filter(f"equals on {name!r} takes one value.")
        if len(wanted) > MAX_LIST_FILTER:
            raise _bad_filter(f"A list filter takes at most {MAX_LIST_FILTER} items.")
        if any(not isinstance(v, str) for v in wanted):
            raise _bad_filter(f"Values of {name!r} are quoted strings.")
        if name == "send_channel":
            unknown = [v for v in wanted if v not in KNOWN_CHANNELS]
            if unknown:
                raise _bad_filter(f"Unknown send_channel {unknown[0]!r}: use {', '.join(KNOWN_CHANNELS)}.")
        clauses.append(columns[name].in_(wanted))
    return clauses


def _timeframe(session: Session, account_id: str, attrs: ReportAttributes) -> tuple[dt.datetime, dt.datetime]:
    start, end = window(session, account_id, attrs.timeframe.model_dump())
    if end - start > MAX_TIMEFRAME:
        raise InvalidInput("The timeframe may be at most 1 year long.", pointer=f"{POINTER}/timeframe")
    return start, end


def _check_metric(session: Session, account_id: str, metric_id: str) -> None:
    # Another account's metric is as unknown here as a made-up id.
    if (
        events.get_metric(session, account_id, metric_id) is None
        and custom_metrics.expand(session, account_id, metric_id) is None
    ):
        raise InvalidInput(
            f"A metric with id {metric_id} does not exist.", pointer=f"{POINTER}/conversion_metric_id"
        )


def _counted(
    session: Session, account_id: str, source: Source, attrs: ReportAttributes, buckets: list[Bucket]
) -> tuple[list[str], list[Counted]]:
    group_by = _group_by(source, getattr(attrs, "group_by", None))
    columns, _joined = source.columns(session)
    conditions = _conditions(source, columns, attrs.filter)
    _check_metric(session, account_id, attrs.conversion_metric_id)
    counted = repository.count(
        session,
        account_id,
        source,
        group_by=group_by,
        conditions=conditions,
        buckets=buckets,
        conversion_metric_id=attrs.conversion_metric_id,
    )
    return group_by, counted


def _sort_key(groupings: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple("" if value is None else str(value) for value in groupings)


def _related(source: Source, group_by: list[str], keys: list[tuple[Any, ...]]) -> dict[str, list[str]]:
    names = {"campaign_id": "campaigns", "flow_id": "flows", "flow_message_id": "flow-messages"}
    related: dict[str, list[str]] = {}
    for attribute, relationship in names.items():
        if attribute in group_by:
            index = group_by.index(attribute)
            ids = sorted({str(key[index]) for key in keys if key[index] is not None})
            related[relationship] = ids
    return related


def values(session: Session, account_id: str, source: Source, attrs: ReportAttributes) -> Report:
    start, end = _timeframe(session, account_id, attrs)
    group_by, counted = _counted(session, account_id, source, attrs, [Bucket(start, end)])
    counted.sort(key=lambda c: _sort_key(c.groupings))
    results = []
    for row in counted:
        derived = statistics(row.counts)
        results.append(
            {
                "groupings": dict(zip(group_by, row.groupings, strict=True)),
                "statistics": {name: derived[name] for name in attrs.statistics},
            }
        )
    return Report(results, related=_related(source, group_by, [c.groupings for c in counted]))


def series(session: Session, account_id: str, source: Source, attrs: FlowSeriesAttributes) -> Report:
    start, end = _timeframe(session, account_id, attrs)
    if end - start > MAX_SPAN[attrs.interval]:
        raise InvalidInput(
            f"The timeframe is too long for {attrs.interval} intervals.", pointer=f"{POINTER}/interval"
        )
    tz = start.tzinfo or dt.UTC
    starts = bucket_starts(start, end, INTERVALS[attrs.interval], tz)
    bounds = [*starts[1:], end]
    buckets = [Bucket(max(s, start), e) for s, e in zip(starts, bounds, strict=True)]
    group_by, counted = _counted(session, account_id, source, attrs, buckets)
    empty = {name: 0.0 for name in repository.COUNTS}
    per_group: dict[tuple[Any, ...], list[dict[str, float]]] = {}
    for row in counted:
        per_group.setdefault(row.groupings, [dict(empty) for _ in buckets])[row.bucket] = row.counts
    results = []
    for key in sorted(per_group, key=_sort_key):
        derived = [statistics(counts) for counts in per_group[key]]
        results.append(
            {
                "groupings": dict(zip(group_by, key, strict=True)),
                "statistics": {name: [d[name] for d in derived] for name in attrs.statistics},
            }
        )
    return Report(
        results,
        date_times=[s.isoformat() for s in starts],
        related=_related(source, group_by, list(per_group)),
    )
