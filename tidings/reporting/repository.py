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

Everything is set-based: a handful of CTEs and one GROUP BY, whatever the number of recipients.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
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

from tidings.db.base import UTCDateTime
from tidings.db.dialect import epoch_seconds, json_text
from tidings.events.metrics import KLAVIYO
from tidings.events.tables import Event, Metric
from tidings.reporting.sources import SENDS, Source, message_key

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
LONGEST_WINDOW = dt.timedelta(days=5)
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
    floor = start - LONGEST_WINDOW
    sent_at = func.coalesce(SENDS.c.finished_at, SENDS.c.sending_at, SENDS.c.planned_for)

    # Every attempted delivery of the account, whatever its source: events and conversions are
    # matched against all of them (the last touch may be another campaign's or a flow's).
    sends = (
        select(
            SENDS.c.id,
            SENDS.c.profile_id,
            SENDS.c.channel,
            SENDS.c.status,
            message_key(session).label("message_key"),
            sent_at.label("sent_at"),
        )
        .where(SENDS.c.account_id == account_id, SENDS.c.status.in_(ATTEMPTED))
        .cte("sends")
    )

    events = Event.__table__
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
    bot_click = json_text(session, events.c.properties, "Bot Click")
    message_events = (
        select(
            events.c.id,
            events.c.profile_id,
            events.c.time,
            kind.label("kind"),
            window.label("window"),
            json_text(session, events.c.properties, "$message").label("message_key"),
        )
        .where(
            events.c.account_id == account_id,
            events.c.metric_id.in_(list(metrics)),
            events.c.time >= floor,
            or_(bot_click.is_(None), bot_click != "true"),
        )
        .cte("message_events")
    )
    follows = func.row_number().over(
        partition_by=message_events.c.id, order_by=(sends.c.sent_at.desc(), sends.c.id.desc())
    )
    linked = (
        select(
            message_events.c.kind,
            message_events.c.time,
            message_events.c.window,
            message_events.c.profile_id,
            sends.c.id.label("send_id"),
            follows.label("rank"),
        )
        .select_from(
            message_events.join(
                sends,
                and_(
                    sends.c.profile_id == message_events.c.profile_id,
                    sends.c.message_key == message_events.c.message_key,
                    sends.c.sent_at <= message_events.c.time,
                ),
            )
        )
        .cte("linked")
    )
    links = select(linked).where(linked.c.rank == 1).cte("links")

    def tally(name: str) -> Any:
        return func.sum(case((links.c.kind == name, 1), else_=0)).label(name)

    per_send = (
        select(links.c.send_id, tally("open"), tally("click"), tally("unsubscribe"), tally("spam"))
        .group_by(links.c.send_id)
        .cte("per_send")
    )

    conversions = (
        select(events.c.id, events.c.profile_id, events.c.time, events.c.value)
        .where(
            events.c.account_id == account_id,
            events.c.metric_id == conversion_metric_id,
            events.c.time >= start,
        )
        .cte("conversions")
    )
    touches = union_all(
        select(links.c.send_id, links.c.profile_id, links.c.time, links.c.window).where(
            links.c.window.is_not(None)
        ),
        select(sends.c.id, sends.c.profile_id, sends.c.sent_at, literal(SMS_DELIVERY_WINDOW)).where(
            sends.c.channel == "sms", sends.c.status == "sent", sends.c.sent_at >= floor
        ),
    ).cte("touches")
    last_touch = func.row_number().over(
        partition_by=conversions.c.id, order_by=(touches.c.time.desc(), touches.c.send_id.desc())
    )
    gap = epoch_seconds(session, conversions.c.time) - epoch_seconds(session, touches.c.time)
    attributed = (
        select(conversions.c.value, touches.c.send_id, last_touch.label("rank"))
        .select_from(
            conversions.join(
                touches,
                and_(
                    touches.c.profile_id == conversions.c.profile_id,
                    touches.c.time <= conversions.c.time,
                    gap <= touches.c.window + EPSILON,
                ),
            )
        )
        .cte("attributed")
    )
    per_send_conversions = (
        select(
            attributed.c.send_id,
            func.count().label("conversions"),
            func.sum(func.coalesce(attributed.c.value, 0.0)).label("conversion_value"),
        )
        .where(attributed.c.rank == 1)
        .group_by(attributed.c.send_id)
        .cte("per_send_conversions")
    )

    bucket_table = (
        values(
            column("idx", Integer),
            column("b_start", UTCDateTime()),
            column("b_end", UTCDateTime()),
            name="buckets",
        )
        .data([(i, b.start, b.end) for i, b in enumerate(buckets)])
        .cte("buckets")
    )
    grouping_columns, joined = source.columns(session)
    groups = [grouping_columns[name].label(f"g{i}") for i, name in enumerate(group_by)]
    scoped = (
        select(
            SENDS.c.id,
            SENDS.c.status,
            SENDS.c.bounced_at,
            SENDS.c.opened_at,
            SENDS.c.clicked_at,
            SENDS.c.complained_at,
            bucket_table.c.idx,
            *groups,
        )
        .select_from(
            joined.join(bucket_table, and_(sent_at >= bucket_table.c.b_start, sent_at < bucket_table.c.b_end))
        )
        .where(
            SENDS.c.account_id == account_id,
            SENDS.c.source_kind == source.kind,
            SENDS.c.status.in_(ATTEMPTED),
            *conditions,
        )
        .cte("scoped")
    )

    def flag(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    opens = func.coalesce(per_send.c.open, 0)
    clicks = func.coalesce(per_send.c.click, 0)
    unsubscribes = func.coalesce(per_send.c.unsubscribe, 0)
    converted = func.coalesce(per_send_conversions.c.conversions, 0)
    group_keys = [scoped.c[f"g{i}"] for i in range(len(group_by))]
    stmt = (
        select(
            scoped.c.idx,
            *group_keys,
            func.count().label("recipients"),
            flag(scoped.c.bounced_at.is_not(None)).label("bounced"),
            flag(and_(scoped.c.status == "failed", scoped.c.bounced_at.is_(None))).label("failed"),
            func.sum(opens).label("opens"),
            flag(or_(scoped.c.opened_at.is_not(None), opens > 0)).label("opens_unique"),
            func.sum(clicks).label("clicks"),
            flag(or_(scoped.c.clicked_at.is_not(None), clicks > 0)).label("clicks_unique"),
            func.sum(unsubscribes).label("unsubscribes"),
            flag(unsubscribes > 0).label("unsubscribe_uniques"),
            flag(or_(scoped.c.complained_at.is_not(None), func.coalesce(per_send.c.spam, 0) > 0)).label(
                "spam_complaints"
            ),
            func.sum(converted).label("conversions"),
            flag(converted > 0).label("conversion_uniques"),
            func.sum(func.coalesce(per_send_conversions.c.conversion_value, 0.0))
            .cast(Float)
            .label("conversion_value"),
        )
        .select_from(
            scoped.outerjoin(per_send, per_send.c.send_id == scoped.c.id).outerjoin(
                per_send_conversions, per_send_conversions.c.send_id == scoped.c.id
            )
        )
        .group_by(scoped.c.idx, *group_keys)
    )
    found: list[Counted] = []
    for row in session.execute(stmt):
        fields = row._mapping
        found.append(
            Counted(
                groupings=tuple(fields[f"g{i}"] for i in range(len(group_by))),
                bucket=int(fields["idx"]),
                counts={name: float(fields[name] or 0) for name in COUNTS},
            )
        )
    return found
