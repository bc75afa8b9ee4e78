"""The gate's time rules: SMS quiet hours where the recipient is, whatever hours the account set."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from tidings.delivery.gate import quiet_until, recipient_zone
from tidings.delivery.sending_settings import DEFAULT_QUIET

QUIET_STARTS, QUIET_ENDS = DEFAULT_QUIET


def test_the_zone_comes_from_the_number_and_is_the_easternmost_of_several() -> None:
    assert recipient_zone("+33612345678", "UTC") == ZoneInfo("Europe/Paris")
    assert recipient_zone("+12125550100", "UTC") == ZoneInfo("America/New_York")
    # Australian mobiles span every Australian zone: Klaviyo uses the eastern one.
    assert recipient_zone("+61412345678", "UTC").key in {
        "Australia/Sydney",
        "Australia/Melbourne",
        "Australia/Hobart",
        "Australia/Lord_Howe",
    }
    assert recipient_zone(None, "Europe/Berlin") == ZoneInfo("Europe/Berlin")
    assert recipient_zone("not a number", "Asia/Tokyo") == ZoneInfo("Asia/Tokyo")


def test_a_message_in_quiet_hours_waits_until_eight_in_the_morning() -> None:
    paris = ZoneInfo("Europe/Paris")
    late = dt.datetime(2026, 12, 6, 22, 30, tzinfo=paris)
    assert quiet_until(late, paris) == dt.datetime(2026, 12, 7, 8, 0, tzinfo=paris)
    early = dt.datetime(2026, 12, 7, 6, 0, tzinfo=paris)
    assert quiet_until(early, paris) == dt.datetime(2026, 12, 7, 8, 0, tzinfo=paris)
    assert quiet_until(dt.datetime(2026, 12, 7, 12, 0, tzinfo=paris), paris) is None


@given(
    st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    st.sampled_from(["Europe/Paris", "America/New_York", "Asia/Kolkata", "Pacific/Auckland", "UTC"]),
)
def test_nobody_gets_an_sms_in_quiet_hours(moment: dt.datetime, name: str) -> None:
    zone = ZoneInfo(name)
    now = moment.replace(tzinfo=dt.UTC)
    resume = quiet_until(now, zone)
    if resume is None:
        assert QUIET_ENDS <= now.astimezone(zone).time() < QUIET_STARTS
    else:
        assert resume > now
        assert resume - now <= dt.timedelta(hours=12)
        assert quiet_until(resume, zone) is None


def _quiet(clock: dt.time, starts: dt.time, ends: dt.time) -> bool:
    """Brute force: the quiet minutes of a day, listed."""
    minute = clock.hour * 60 + clock.minute
    first, last = starts.hour * 60 + starts.minute, ends.hour * 60 + ends.minute
    quiet = {m % 1440 for m in range(first, last if last > first else last + 1440)}
    return minute in quiet


clocks = st.builds(dt.time, st.integers(4, 23), st.integers(0, 59))  # away from DST changes (0-3 h)


@given(
    st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    st.sampled_from(["Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC"]),
    clocks,
    clocks,
)
def test_any_quiet_hours_are_kept(moment: dt.datetime, name: str, starts: dt.time, ends: dt.time) -> None:
    if starts == ends:
        return
    zone = ZoneInfo(name)
    now = moment.replace(tzinfo=dt.UTC, second=0, microsecond=0)
    resume = quiet_until(now, zone, starts, ends)
    assert (resume is not None) == _quiet(now.astimezone(zone).time(), starts, ends)
    if resume is not None:
        assert now < resume <= now + dt.timedelta(hours=24)
        assert resume.astimezone(zone).time() == ends
        assert quiet_until(resume, zone, starts, ends) is None
