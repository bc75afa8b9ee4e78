"""When a time delay ends: its length, then the time of day and the days of the week it waits
for, in the delay's time zone (an IANA zone, or `profile`: the profile's `location.timezone`,
else the account's)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MINUTES = {"minutes": 1, "hours": 60, "days": 1440}
# secondary_value: the finer unit that goes with the main one (days and hours, hours and minutes)
_SECONDARY = {"days": 60, "hours": 1, "minutes": 0}


def zone(name: str | None, fallback: str) -> zoneinfo.ZoneInfo:
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return zoneinfo.ZoneInfo(candidate)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
    return zoneinfo.ZoneInfo("UTC")


def delay_zone(data: dict[str, Any], profile_zone: str | None, account_zone: str) -> zoneinfo.ZoneInfo:
    name = data.get("timezone") or "profile"
    return zone(profile_zone if name == "profile" else name, account_zone)


def due(data: dict[str, Any], now: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The end of a `time-delay` started at `now`."""
    unit = str(data.get("unit") or "days")
    value = int(data.get("value") or 0)
    minutes = value * _MINUTES.get(unit, 1440) + int(data.get("secondary_value") or 0) * _SECONDARY.get(
        unit, 0
    )
    at = now + dt.timedelta(minutes=minutes)
    until = data.get("delay_until_time")
    days = [WEEKDAYS.index(d) for d in data.get("delay_until_weekdays") or [] if d in WEEKDAYS]
    if not until and not days:
        return at
    local = at.astimezone(tz)
    if until:
        clock = dt.time.fromisoformat(str(until))
        if unit == "days":  # "wait N days, then until 10:00": that day, at 10:00
            day = (now.astimezone(tz) + dt.timedelta(days=value)).date()
            local = dt.datetime.combine(day, clock, tzinfo=tz)
            if local.astimezone(dt.UTC) < now:
                local += dt.timedelta(days=1)
        else:
            candidate = dt.datetime.combine(local.date(), clock, tzinfo=tz)
            local = candidate if candidate >= local else candidate + dt.timedelta(days=1)
    if days:
        for _ in range(7):
            if local.weekday() in days:
                break
            local += dt.timedelta(days=1)
            if not until:  # waiting for a day, not a time: the start of that day
                local = dt.datetime.combine(local.date(), dt.time(0), tzinfo=tz)
        local = dt.datetime.combine(local.date(), local.timetz().replace(tzinfo=None), tzinfo=tz)
    return local.astimezone(dt.UTC)
