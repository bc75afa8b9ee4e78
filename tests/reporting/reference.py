"""The report computed the slow, obvious way in Python: the reference the SQL is checked against.

It states the rules once more, row by row: recipients are attempted rows; an event counts for the
latest row of the same profile and message sent at or before it; a conversion goes to the
profile's last touch inside its window (ties to the later row id)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from tests.reporting.ledger import Happened, Send

ATTEMPTED = {"sent", "failed", "unknown"}
DAY = 86_400
KINDS: dict[str, tuple[str, int | None]] = {
    "Opened Email": ("open", 5 * DAY),
    "Opened Push": ("open", DAY),
    "Clicked Email": ("click", 5 * DAY),
    "Clicked SMS": ("click", 5 * DAY),
    "Unsubscribed from Email Marketing": ("unsubscribe", None),
    "Unsubscribed from SMS Marketing": ("unsubscribe", None),
    "Unsubscribed from List": ("unsubscribe", None),
    "Marked Email as Spam": ("spam", None),
}
CHANNELS = {"email": "email", "sms": "sms", "push": "push-notification"}


def _message(send: Send) -> str:
    return str((send.context or {}).get("$message") or send.source_id)


def counts(
    sends: list[Send],
    happened: list[Happened],
    *,
    conversion_metric: str,
    source_kind: str,
    start: dt.datetime,
    end: dt.datetime,
) -> dict[tuple[Any, ...], dict[str, float]]:
    """Counts per (flow id, flow message id, send channel) of the rows of `source_kind` sent in
    [start, end)."""
    attempted = [s for s in sends if s.status in ATTEMPTED]
    floor = start - dt.timedelta(days=5)

    def follows(profile: str, message: str, at: dt.datetime) -> Send | None:
        earlier = [s for s in attempted if s.profile_id == profile and _message(s) == message and s.at <= at]
        return max(earlier, key=lambda s: (s.at, s.id)) if earlier else None

    tallies: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    touches: list[tuple[str, str, dt.datetime, int]] = []  # send id, profile, time, window
    for event in happened:
        if event.metric not in KINDS or not event.klaviyo or event.at < floor:
            continue
        if event.properties.get("Bot Click") is True:
            continue
        message = event.properties.get("$message")
        send = follows(event.profile_id, str(message), event.at) if message is not None else None
        if send is None:
            continue
        kind, window = KINDS[event.metric]
        tallies[send.id][kind] += 1
        if window is not None:
            touches.append((send.id, event.profile_id, event.at, window))
    for send in attempted:
        if send.channel == "sms" and send.status == "sent" and send.at >= floor:
            touches.append((send.id, send.profile_id, send.at, DAY // 2))

    converted: dict[str, list[float]] = defaultdict(list)
    for event in happened:
        if event.metric != conversion_metric or event.klaviyo or event.at < start:
            continue
        inside = [
            t
            for t in touches
            if t[1] == event.profile_id and t[2] <= event.at and (event.at - t[2]).total_seconds() <= t[3]
        ]
        if inside:
            last = max(inside, key=lambda t: (t[2], t[0]))
            converted[last[0]].append(event.value or 0.0)

    out: dict[tuple[Any, ...], dict[str, float]] = {}
    for send in attempted:
        if send.source_kind != source_kind or not (start <= send.at < end):
            continue
        context = send.context or {}
        key = (context.get("$flow"), _message(send), CHANNELS[send.channel])
        row = out.setdefault(key, defaultdict(float))
        mine = tallies.get(send.id, {})
        row["recipients"] += 1
        row["bounced"] += send.bounced_at is not None
        row["failed"] += send.status == "failed" and send.bounced_at is None
        row["opens"] += mine.get("open", 0)
        row["opens_unique"] += send.opened_at is not None or mine.get("open", 0) > 0
        row["clicks"] += mine.get("click", 0)
        row["clicks_unique"] += send.clicked_at is not None or mine.get("click", 0) > 0
        row["unsubscribes"] += mine.get("unsubscribe", 0)
        row["unsubscribe_uniques"] += mine.get("unsubscribe", 0) > 0
        row["spam_complaints"] += send.complained_at is not None or mine.get("spam", 0) > 0
        row["conversions"] += len(converted.get(send.id, []))
        row["conversion_uniques"] += bool(converted.get(send.id))
        row["conversion_value"] += sum(converted.get(send.id, []))
    return out
