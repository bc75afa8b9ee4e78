"""The profile's last_event_date, kept by the events domain (tidings/events/activity.py)."""

from __future__ import annotations

import datetime as dt

from tidings.events.metrics import MetricKey
from tidings.events.store import NewEvent, write_events


def test_last_event_date_follows_the_newest_event(sdk, db, account) -> None:
    pid = sdk.Profiles.create_profile(
        {"data": {"type": "profile", "attributes": {"email": "led@example.com"}}}
    ).data.id
    newer = dt.datetime(2026, 5, 2, 10, 0, tzinfo=dt.UTC)
    with db.write() as session:
        write_events(session, account.id, [NewEvent(pid, MetricKey("Viewed"), newer, unique_id="n")])
    with db.write() as session:
        write_events(
            session,
            account.id,
            [NewEvent(pid, MetricKey("Viewed"), newer - dt.timedelta(days=3), unique_id="o")],
        )
    assert sdk.Profiles.get_profile(pid).data.attributes.last_event_date == newer
