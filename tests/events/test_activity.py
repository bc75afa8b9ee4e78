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


def test_bookkeeping_events_leave_last_event_date_alone(sdk, db, account) -> None:
    """An event that only records Tidings' own bookkeeping (a segment entry) is not activity."""
    pid = sdk.Profiles.create_profile(
        {"data": {"type": "profile", "attributes": {"email": "quiet@example.com"}}}
    ).data.id
    when = dt.datetime(2026, 5, 2, 10, 0, tzinfo=dt.UTC)
    with db.write() as session:
        write_events(
            session,
            account.id,
            [
                NewEvent(
                    pid, MetricKey("Entered Segment"), when, unique_id="s", source="segment", activity=False
                )
            ],
        )
    assert sdk.Profiles.get_profile(pid).data.attributes.last_event_date is None
