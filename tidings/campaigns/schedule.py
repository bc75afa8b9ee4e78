"""When each recipient's message is due, by the campaign's send strategy.

Every strategy comes down to a handful of distinct instants (one; one per time zone; one per
hour of a throttled send), so the due time is a SQL `CASE` over a small key (the profile's
time zone, the recipient's batch number) with the instants computed here, and the whole
audience is still planned in one INSERT ... SELECT (`delivery.service.plan_many`):

- `immediate`: now.
- `static`: its datetime (now if that has passed by the time the recipients are planned).
- `static` with `is_local`: the datetime's wall-clock time in each recipient's time zone (the
  profile's `location.timezone`, else the account's). Nobody gets it before that local time.
  Where that time has already passed when the recipients are planned, Klaviyo's
  `send_past_recipients_immediately` decides: true, now; false, the same wall-clock time the
  next day.
- `throttled`: recipients in profile-id order, cut into batches of `throttle_percentage` % of
  the audience (rounded up); batch k is due k hours after the datetime.
- `smart_send_time`: one hour of the given date in the account's time zone: the hour at which
  the account's profiles opened the most email over the last 90 days (at least
  SMART_MIN_OPENS opens), else SMART_DEFAULT_HOUR. Klaviyo's model picks one time for the
  whole audience too; Tidings' choice is a plain count, not Klaviyo's model.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, case, func, literal, select
from sqlalchemy.orm import Session

from tidings.accounts.repository import get_account
from tidings.campaigns import audience
from tidings.campaigns.tables import Campaign
from tidings.db.base import UTCDateTime
from tidings.db.dialect import json_text
from tidings.events.tables import Event, Metric
from tidings.profiles.tables import Profile

SMART_DEFAULT_HOUR = 10
SMART_MIN_OPENS = 50
SMART_LOOKBACK = dt.timedelta(days=90)
SMART_SAMPLE = 20_000  # the latest opens looked at
# A wall-clock time has passed everywhere once it has passed at UTC-12.
LATEST_OFFSET = dt.timedelta(hours=12)


@dataclass(frozen=True)
class Plan:
    """What to plan: `profiles` (profile id and, for a spread send, its due time), and the
    earliest instant any row is due."""

    profiles: Select[Any]
    first_due: dt.datetime
    at: dt.datetime | None  # the one due time of every row, when there is one


def zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def strategy_time(strategy: dict[str, Any]) -> dt.datetime | None:
    when = strategy.get("datetime")
    if not isinstance(when, str):
        return None
    value = dt.datetime.fromisoformat(when)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def is_local(strategy: dict[str, Any]) -> bool:
    return strategy.get("method") == "static" and bool((strategy.get("options") or {}).get("is_local"))


def in_the_past(strategy: dict[str, Any], now: dt.datetime) -> bool:
    """Whether the strategy's time has passed (a local send: passed in every time zone)."""
    method = strategy.get("method")
    if method == "smart_send_time":
        day = strategy.get("date")
        return isinstance(day, str) and dt.date.fromisoformat(day) < now.date()
    when = strategy_time(strategy)
    if when is None:
        return False
    if is_local(strategy):
        return when + LATEST_OFFSET < now
    return when < now


def local_due(wall: dt.datetime, where: ZoneInfo, now: dt.datetime, past_immediately: bool) -> dt.datetime:
    """The instant `wall` (its wall-clock part) happens in `where`; if that has passed: now, or
    the same wall-clock time the next day."""
    naive = wall.replace(tzinfo=None)
    due = naive.replace(tzinfo=where).astimezone(dt.UTC)
    if due >= now:
        return due
    if past_immediately:
        return now
    return (naive + dt.timedelta(days=1)).replace(tzinfo=where).astimezone(dt.UTC)


def account_zone(session: Session, account_id: str) -> ZoneInfo:
    account = get_account(session, account_id)
    return zone(account.timezone if account is not None else None) or ZoneInfo("UTC")


def plan(session: Session, campaign: Campaign, now: dt.datetime) -> Plan:
    """The recipients of `campaign` with their due times, as of `now`."""
    account_id = campaign.account_id
    strategy = campaign.send_strategy or {"method": "immediate"}
    method = strategy.get("method", "immediate")
    recipients = audience.recipients(session, account_id, campaign.audiences)
    if method == "static" and is_local(strategy):
        return _local(session, campaign, strategy, now)
    if method == "throttled":
        return _throttled(session, campaign, strategy, now)
    if method == "smart_send_time":
        at = max(smart_send_time(session, account_id, strategy), now)
        return Plan(recipients, at, at)
    when = strategy_time(strategy) if method == "static" else None
    at = max(when, now) if when is not None else now
    return Plan(recipients, at, at)


def _local(session: Session, campaign: Campaign, strategy: dict[str, Any], now: dt.datetime) -> Plan:
    account_id = campaign.account_id
    wall = strategy_time(strategy) or now
    past_immediately = bool((strategy.get("options") or {}).get("send_past_recipients_immediately"))
    fallback = local_due(wall, account_zone(session, account_id), now, past_immediately)
    profile_zone = json_text(session, Profile.location, "timezone")
    names = session.execute(
        select(profile_zone).where(Profile.account_id == account_id, profile_zone.is_not(None)).distinct()
    ).scalars()
    instants: dict[str, dt.datetime] = {}
    for name in names:
        where = zone(str(name))
        if where is not None:
            instants[str(name)] = local_due(wall, where, now, past_immediately)
    due = (
        case(
            {name: literal(at, UTCDateTime()) for name, at in instants.items()},
            value=profile_zone,
            else_=literal(fallback, UTCDateTime()),
        )
        if instants
        else literal(fallback, UTCDateTime())
    )
    profiles = select(Profile.id, due.label("planned_for")).where(
        audience.in_audience(session, account_id, campaign.audiences)
    )
    return Plan(profiles, min([fallback, *instants.values()]), None)


def _throttled(session: Session, campaign: Campaign, strategy: dict[str, Any], now: dt.datetime) -> Plan:
    account_id = campaign.account_id
    start = max(strategy_time(strategy) or now, now)
    total = audience.count(session, account_id, campaign.audiences)
    percentage = int(strategy.get("throttle_percentage") or 100)
    batch = max(1, math.ceil(total * percentage / 100))
    batches = max(1, math.ceil(total / batch))
    people = audience.recipients(session, account_id, campaign.audiences).subquery("recipients")
    number = func.row_number().over(order_by=people.c.id) - 1
    numbered = select(people.c.id.label("profile_id"), (number // literal(batch)).label("batch")).subquery(
        "numbered"
    )
    due = case(
        {k: literal(start + dt.timedelta(hours=k), UTCDateTime()) for k in range(batches)},
        value=numbered.c.batch,
        else_=literal(start + dt.timedelta(hours=batches), UTCDateTime()),
    )
    return Plan(select(numbered.c.profile_id, due.label("planned_for")), start, None)


def smart_send_time(session: Session, account_id: str, strategy: dict[str, Any]) -> dt.datetime:
    """The strategy's date at the account's best hour for opens (see the module's docstring)."""
    where = account_zone(session, account_id)
    day = dt.date.fromisoformat(str(strategy.get("date")))
    hour = best_open_hour(session, account_id, where)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=where).astimezone(dt.UTC)


def best_open_hour(session: Session, account_id: str, where: ZoneInfo, now: dt.datetime | None = None) -> int:
    """The local hour of the day with the most `Opened Email` events lately, or the default."""
    since = (now or dt.datetime.now(dt.UTC)) - SMART_LOOKBACK
    metric = select(Metric.id).where(Metric.account_id == account_id, Metric.name == "Opened Email")
    times = session.execute(
        select(Event.time)
        .where(
            Event.account_id == account_id, Event.metric_id.in_(metric.scalar_subquery()), Event.time >= since
        )
        .order_by(Event.time.desc())
        .limit(SMART_SAMPLE)
    ).scalars()
    hours = Counter(value.astimezone(where).hour for value in times)
    if sum(hours.values()) < SMART_MIN_OPENS:
        return SMART_DEFAULT_HOUR
    return min(hours, key=lambda h: (-hours[h], h))
