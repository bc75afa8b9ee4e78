"""The gate's time rules: SMS quiet hours where the recipient is."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from tidings.delivery.gate import QUIET_ENDS, QUIET_STARTS, quiet_until, recipient_zone


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
