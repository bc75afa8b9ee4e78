"""The report's counts, in one aggregate query over the ledger and the message events.

Rows: the ledger rows of the report's source that were attempted (`sent`, `failed`, `unknown`:
the recipients), bucketed by their send time (Klaviyo bundles a message's activity by when the
message was sent, not when the activity happened).

Events: each of Klaviyo's message events (opens, clicks, unsubscribes, spam complaints) counts for
the delivery it follows: the latest ledger row of the same profile and message (`$message`) sent
at or before the event. Bot clicks (`Bot Click`) count for nothing.

Conversions: each event of the conversion metric goes to the profile's last touch inside its
window (last-touch attribution, Klaviyo's windows for accounts created since October 2024):
an email open or click within 5 days, an SMS click within 5 days, an SMS delivered within
12 hours, a push open within 24 hours. Ties go to the later ledger row id. A conversion is
attributed across every campaign and flow, then counted only where its delivery is in the report.

Everything is set-based: three aggregate queries (the ledger's own figures, the message events'
and the conversions'), each grouped the report's way, whatever the number of recipients. The
derived tables are always joined to the ledger (or the events) by an index, never to each other,
so the plan does not depend on the database's statistics.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Select,
    and_,
    case,
    column,
    func,
    literal,
    or_,
    select,
    union_all,
    values,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import FromClause

from tidings.db.base import UTCDateTime
from tidings.db.dialect import epoch_seconds, json_text
from tidings.events import custom_metrics
from tidings.events.metrics import KLAVIYO
from tidings.events.tables import Event, Metric
from tidings.reporting.sources import SENDS, Source, message_key, sent_at

ATTEMPTED = ("sent", "failed", "unknown")
DAY = 86_400

# Klaviyo's message events, what each counts as, and its attribution window (seconds) if it is a touch.
MESSAGE_METRICS: dict[str, tuple[str, int | None]] = {
    "Opened Email": ("open", 5 * DAY),
    "Opened Push": ("open", 1 * DAY),
    "Clicked Email": ("click", 5 * DAY),
    "Clicked SMS": ("click", 5 * DAY),
    "Unsubscribed from Email Marketing": ("unsubscribe", None),
    "Unsubscribed from SMS Marketing": ("unsubscribe", None),
    "Unsubscribed from Push Marketing": ("unsubscribe", None),
    "Unsubscribed from List": ("unsubscribe", None),
    "Marked Email as Spam": ("spam", None),
}
SMS_DELIVERY_WINDOW = DAY // 2
# Times compared in seconds through floats (SQLite's julianday): a margin far below one second.
EPSILON = 0.001

COUNTS = (
    "recipients",
    "bounced",
    "failed",
    "opens",
    "opens_unique",
    "clicks",
    "clicks_unique",
    "unsubscribes",
    "unsubscribe_uniques",
    "spam_complaints",
    "conversions",
    "conversion_uniques",
    "conversion_value",
)


@dataclass(frozen=True)
class Bucket:
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Counted:
    groupings: tuple[Any, ...]
    bucket: int
    counts: dict[str, float]


def message_metric_ids(session: Session, account_id: str) -> dict[str, tuple[str, int | None]]:
    """The account's Klaviyo message metrics by id: what each counts as, and its touch window."""
    rows = session.execute(
        select(Metric.id, Metric.name).where(
            Metric.account_id == account_id,
            Metric.integration_key == KLAVIYO,
            Metric.name.in_(list(MESSAGE_METRICS)),
        )
    )
    return {metric_id: MESSAGE_METRICS[name] for metric_id, name in rows}


def count(
    session: Session,
    account_id: str,
    source: Source,
    *,
    group_by: Sequence[str],
    conditions: Sequence[Any],
    buckets: Sequence[Bucket],
    conversion_metric_id: str,
) -> list[Counted]:
    metrics = message_metric_ids(session, account_id)
    start = min(b.start for b in buckets)
    report = _Report(session, account_id, source, group_by, conditions, buckets)

    ledger = report.grouped(
        SENDS,
        func.count().label("recipients"),
        _flag(SENDS.c.bounced_at.is_not(None)).label("bounced"),
        _flag(and_(SENDS.c.status == "failed", SENDS.c.bounced_at.is_(None))).label("failed"),
        _flag(SENDS.c.opened_at.is_not(None)).label("opens_unique"),
        _flag(SENDS.c.clicked_at.is_not(None)).label("clicks_unique"),
        _flag(SENDS.c.complained_at.is_not(None)).label("spam_complaints"),
    )

    links = _links(session, account_id, metrics, start)

    def tally(name: str) -> Any:
        return func.sum(case((links.c.kind == name, 1), else_=0)).label(name)

    def more_unique(name: str, recorded: Any) -> Any:
        # Deliveries the event makes unique that the ledger's column does not already count.
        return func.count(
            func.distinct(case((and_(links.c.kind == name, recorded.is_(None)), links.c.send_id)))
        )

    activity = report.grouped(
        links.join(SENDS, and_(SENDS.c.account_id == account_id, SENDS.c.id == links.c.send_id)),
        tally("open").label("opens"),
        tally("click").label("clicks"),
        tally("unsubscribe").label("unsubscribes"),
        more_unique("open", SENDS.c.opened_at).label("opens_unique"),
        more_unique("click", SENDS.c.clicked_at).label("clicks_unique"),
        more_unique("spam", SENDS.c.complained_at).label("spam_complaints"),
        func.count(func.distinct(case((links.c.kind == "unsubscribe", links.c.send_id)))).label(
            "unsubscribe_uniques"
        ),
    )

    attributed = _attributed(session, account_id, metrics, conversion_metric_id, start)
    conversions = report.grouped(
        attributed.join(SENDS, and_(SENDS.c.account_id == account_id, SENDS.c.id == attributed.c.send_id)),
        func.count().label("conversions"),
        func.count(func.distinct(attributed.c.send_id)).label("conversion_uniques"),
        func.sum(func.coalesce(attributed.c.value, 0.0)).cast(Float).label("conversion_value"),
    )

    found: dict[tuple[int, tuple[Any, ...]], dict[str, float]] = {}
    for stmt in (ledger, activity, conversions):
        for row in session.execute(stmt):
            fields = row._mapping
            key = (int(fields["idx"]), tuple(fields[f"g{i}"] for i in range(len(group_by))))
            counts = found.setdefault(key, dict.fromkeys(COUNTS, 0.0))
            for name, value in fields.items():
                if name in counts:
                    counts[name] += float(value or 0)
    return [Counted(groupings=key, bucket=idx, counts=counts) for (idx, key), counts in found.items()]


def _flag(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


class _Report:
    """What every one of the report's statements shares: the rows in the report (source kind,
    attempted, the filter), their interval, and the grouping columns."""

    def __init__(
        self,
        session: Session,
        account_id: str,
        source: Source,
        group_by: Sequence[str],
        conditions: Sequence[Any],
        buckets: Sequence[Bucket],
    ) -> None:
        columns, self.attach = source.columns(session)
        self.groups = [columns[name].label(f"g{i}") for i, name in enumerate(group_by)]
        self.buckets = (
            values(
                column("idx", Integer),
                column("b_start", UTCDateTime()),
                column("b_end", UTCDateTime()),
                name="buckets",
            )
            .data([(i, b.start, b.end) for i, b in enumerate(buckets)])
            .cte("buckets")
        )
        self.where = [
            SENDS.c.account_id == account_id,
            SENDS.c.source_kind == source.kind,
            SENDS.c.status.in_(ATTEMPTED),
            *conditions,
        ]

    def grouped(self, base: FromClause, *measures: Any) -> Select[Any]:
        sent = sent_at()
        inside = and_(sent >= self.buckets.c.b_start, sent < self.buckets.c.b_end)
        keys = [group.element for group in self.groups]
        return (
            select(self.buckets.c.idx, *self.groups, *measures)
            .select_from(self.attach(base).join(self.buckets, inside))
            .where(*self.where)
            .group_by(self.buckets.c.idx, *keys)
        )


def _kinds(events: Any, metrics: dict[str, tuple[str, int | None]]) -> tuple[Any, Any]:
    """What an event counts as, and its attribution window, as SQL over its metric."""
    by_kind: dict[str, list[str]] = {}
    for metric_id, (counts_as, _window) in metrics.items():
        by_kind.setdefault(counts_as, []).append(metric_id)
    kind: Any = (
        case(*[(events.c.metric_id.in_(ids), literal(k)) for k, ids in by_kind.items()], else_=None)
        if by_kind
        else literal(None)
    )
    windows = [(events.c.metric_id == mid, literal(w)) for mid, (_k, w) in metrics.items() if w is not None]
    window: Any = case(*windows, else_=None) if windows else literal(None, Integer)
    return kind, window


def _not_a_bot(session: Session, events: Any) -> Any:
    bot_click = json_text(session, events.c.properties, "Bot Click")
    return or_(bot_click.is_(None), bot_click != "true")


def _follows(session: Session, account_id: str, event: Any) -> tuple[Any, Any, Any]:
    """The ledger rows an event may follow (same profile and message, sent at or before it),
    joined by the ledger's (account, profile) index, and the order that puts the one it follows
    first."""
    candidate = SENDS.alias("candidate")
    candidate_sent = sent_at(candidate)
    on = and_(
        candidate.c.account_id == account_id,
        candidate.c.profile_id == event.c.profile_id,
        candidate.c.status.in_(ATTEMPTED),
        message_key(session, candidate) == json_text(session, event.c.properties, "$message"),
        candidate_sent <= event.c.time,
    )
    return candidate, on, (candidate_sent.desc(), candidate.c.id.desc())


def _links(
    session: Session, account_id: str, metrics: dict[str, tuple[str, int | None]], start: dt.datetime
) -> Any:
    """Each message event since `start` with the ledger row it counts for (rows sent before
    `start` are not in the report, nor is what follows them)."""
    events = Event.__table__.alias("message_event")
    kind, _window = _kinds(events, metrics)
    candidate, on, order = _follows(session, account_id, events)
    rank = func.row_number().over(partition_by=events.c.id, order_by=order)
    linked = (
        select(kind.label("kind"), candidate.c.id.label("send_id"), rank.label("rank"))
        .select_from(events.join(candidate, on))
        .where(
            events.c.account_id == account_id,
            events.c.metric_id.in_(list(metrics)),
            events.c.time >= start,
            _not_a_bot(session, events),
        )
        .subquery("linked")
    )
    return select(linked.c.kind, linked.c.send_id).where(linked.c.rank == 1).subquery("links")


def _attributed(
    session: Session,
    account_id: str,
    metrics: dict[str, tuple[str, int | None]],
    conversion_metric_id: str,
    start: dt.datetime,
) -> Any:
    """Each conversion since `start` with the ledger row of its last touch, if it had one."""
    conversions = Event.__table__.alias("conversion")
    touch = Event.__table__.alias("touch")
    _kind, window = _kinds(touch, metrics)
    touch_metrics = [mid for mid, (_k, w) in metrics.items() if w is not None]
    candidate, on, order = _follows(session, account_id, touch)
    gap = epoch_seconds(session, conversions.c.time) - epoch_seconds(session, touch.c.time)
    # A metric, or a custom metric: its members' events, valued by their group's value property.
    expansion = custom_metrics.expand(session, account_id, conversion_metric_id)
    member: Any = conversions.c.metric_id == conversion_metric_id
    value: Any = conversions.c.value
    if expansion is not None:
        member = custom_metrics.member_clause(session, account_id, expansion, conversions.c)
        value = custom_metrics.value_expression(session, expansion, conversions.c)
    converted = and_(conversions.c.account_id == account_id, member, conversions.c.time >= start)
    # An open or a click: the latest row it follows (ranked per conversion and touch).
    followed = func.row_number().over(partition_by=(conversions.c.id, touch.c.id), order_by=order)
    event_touches = (
        select(
            conversions.c.id.label("conversion_id"),
            value.label("value"),
            touch.c.time.label("touched"),
            candidate.c.id.label("send_id"),
            followed.label("rank"),
        )
        .select_from(
            conversions.join(
                touch,
                and_(
                    touch.c.account_id == account_id,
                    touch.c.profile_id == conversions.c.profile_id,
                    touch.c.time <= conversions.c.time,
                ),
            ).join(candidate, on)
        )
        .where(
            converted,
            touch.c.metric_id.in_(touch_metrics),
            _not_a_bot(session, touch),
            gap <= window + EPSILON,
        )
        .subquery("event_touches")
    )
    # An SMS delivered: the row itself.
    sms = SENDS.alias("sms")
    delivered = sent_at(sms)
    sms_gap = epoch_seconds(session, conversions.c.time) - epoch_seconds(session, delivered)
    sms_touches = (
        select(conversions.c.id, value.label("value"), delivered, sms.c.id)
        .select_from(
            conversions.join(
                sms,
                and_(
                    sms.c.account_id == account_id,
                    sms.c.profile_id == conversions.c.profile_id,
                    sms.c.channel == "sms",
                    sms.c.status == "sent",
                    delivered <= conversions.c.time,
                ),
            )
        )
        .where(converted, sms_gap <= SMS_DELIVERY_WINDOW + EPSILON)
    )
    touches = union_all(
        select(
            event_touches.c.conversion_id,
            event_touches.c.value,
            event_touches.c.touched,
            event_touches.c.send_id,
        ).where(event_touches.c.rank == 1),
        sms_touches,
    ).subquery("touches")
    last = func.row_number().over(
        partition_by=touches.c.conversion_id, order_by=(touches.c.touched.desc(), touches.c.send_id.desc())
    )
    ranked = select(touches.c.value, touches.c.send_id, last.label("rank")).subquery("ranked")
    return select(ranked.c.value, ranked.c.send_id).where(ranked.c.rank == 1).subquery("attributed")
