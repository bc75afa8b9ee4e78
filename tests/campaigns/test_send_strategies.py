"""Each send strategy's due times: local time, throttled, smart send time; nobody gets it early."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from tests.campaigns.conftest import Shop
from tests.campaigns.sendkit import follow, outbox, people, rows, send, sendable, status
from tidings.campaigns import schedule, sending
from tidings.config import Settings
from tidings.db.session import Database
from tidings.delivery.worker import deliver_due
from tidings.events.store import record_event

TOMORROW = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date()


def _plan(db: Database, account: str, campaign_id: str, now: dt.datetime) -> None:
    with db.write() as session:
        sending.plan_recipients(session, account, campaign_id, now)


@pytest.mark.parametrize("past_immediately", [False, True])
def test_local_time_sends_at_each_recipients_wall_clock(
    shop: Shop, db: Database, past_immediately: bool
) -> None:
    account = shop.keys.id  # the account's time zone is UTC
    list_id = shop.make_list()
    york, tokyo, nowhere, odd = people(
        db,
        account,
        list_id,
        [
            {"email": "ny@example.com", "location": {"timezone": "America/New_York"}},
            {"email": "tk@example.com", "location": {"timezone": "Asia/Tokyo"}},
            {"email": "no@example.com"},
            {"email": "odd@example.com", "location": {"timezone": "Not/A_Zone"}},
        ],
    )
    wall = dt.datetime.combine(TOMORROW, dt.time(9, 0), tzinfo=dt.UTC)
    options = {"is_local": True, "send_past_recipients_immediately": past_immediately}
    strategy = {"method": "static", "datetime": wall.isoformat(), "options": options}
    campaign = sendable(
        shop, {"name": "Local", "audiences": {"included": [list_id]}, "send_strategy": strategy}
    )
    assert send(shop, campaign["id"]).status_code == 202
    # Planned at 02:00 UTC that day: 11:00 in Tokyo (passed), 21:00 the day before in New York.
    now = dt.datetime.combine(TOMORROW, dt.time(2, 0), tzinfo=dt.UTC)
    _plan(db, account, campaign["id"], now)
    due = {r.profile_id: r.planned_for for r in rows(db, account, campaign["message"])}
    assert due[york] == dt.datetime.combine(TOMORROW, dt.time(14, 0), tzinfo=dt.UTC)  # 09:00 EST
    assert due[nowhere] == wall and due[odd] == wall  # the account's zone
    next_day = dt.datetime.combine(TOMORROW, dt.time(0, 0), tzinfo=dt.UTC) + dt.timedelta(days=1)
    assert due[tokyo] == (now if past_immediately else next_day)  # 09:00 JST the next day
    assert status(shop, campaign["id"]) == ("Sending" if past_immediately else "Scheduled")


def test_a_local_send_is_refused_only_once_its_time_has_passed_everywhere() -> None:
    now = dt.datetime(2030, 1, 2, 12, 0, tzinfo=dt.UTC)
    local = {"method": "static", "datetime": "2030-01-02T09:00:00+00:00", "options": {"is_local": True}}
    assert not schedule.in_the_past(local, now)  # still ahead west of UTC-3
    assert schedule.in_the_past({**local, "datetime": "2030-01-01T23:00:00+00:00"}, now)
    assert schedule.in_the_past({"method": "static", "datetime": "2030-01-02T09:00:00+00:00"}, now)


def test_throttled_sends_a_share_of_the_audience_each_hour(
    shop: Shop, db: Database, settings: Settings, tmp_path: Path
) -> None:
    account = shop.keys.id
    list_id = shop.make_list()
    ids = people(db, account, list_id, [{"email": f"t{n}@example.com"} for n in range(11)])
    start = dt.datetime.combine(TOMORROW, dt.time(8, 0), tzinfo=dt.UTC)
    strategy = {"method": "throttled", "datetime": start.isoformat(), "throttle_percentage": 20}
    campaign = sendable(
        shop, {"name": "Slow", "audiences": {"included": [list_id]}, "send_strategy": strategy}
    )
    assert send(shop, campaign["id"]).status_code == 202
    _plan(db, account, campaign["id"], start - dt.timedelta(hours=1))
    planned = rows(db, account, campaign["message"])
    # 20 % of 11, rounded up: batches of 3, an hour apart, in profile order.
    hours = Counter(int((r.planned_for - start).total_seconds() // 3600) for r in planned)
    assert hours == {0: 3, 1: 3, 2: 3, 3: 2}
    assert [r.profile_id for r in sorted(planned, key=lambda r: (r.planned_for, r.profile_id))] == sorted(ids)
    deliver_due(db, outbox(settings, tmp_path))
    assert not list(tmp_path.glob("outbox/*/*.eml"))  # nobody before the first hour
    follow(db, account, campaign["id"], now=start + dt.timedelta(minutes=1))
    assert status(shop, campaign["id"]) == "Sending"


def test_smart_send_time_picks_the_hour_people_open_or_the_default(shop: Shop, db: Database) -> None:
    account = shop.keys.id
    list_id = shop.make_list()
    people(db, account, list_id, [{"email": "sm@example.com"}])
    strategy = {"method": "smart_send_time", "date": TOMORROW.isoformat()}
    campaign = sendable(
        shop, {"name": "Smart", "audiences": {"included": [list_id]}, "send_strategy": strategy}
    )
    assert send(shop, campaign["id"]).status_code == 202
    _plan(db, account, campaign["id"], dt.datetime.combine(TOMORROW, dt.time(0, 0), tzinfo=dt.UTC))
    [row] = rows(db, account, campaign["message"])
    assert row.planned_for == dt.datetime.combine(
        TOMORROW, dt.time(schedule.SMART_DEFAULT_HOUR), tzinfo=dt.UTC
    )


def test_smart_send_time_follows_the_hour_most_opens_happened(shop: Shop, db: Database) -> None:
    account = shop.keys.id
    list_id = shop.make_list()
    [person] = people(db, account, list_id, [{"email": "opens@example.com"}])
    recent = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=3)
    with db.write() as session:
        for n in range(schedule.SMART_MIN_OPENS + 10):
            hour = 17 if n % 3 else 6  # two in three at 17:00 UTC
            record_event(
                session,
                account,
                profile_id=person,
                metric_name="Opened Email",
                time=recent.replace(hour=hour) - dt.timedelta(days=n % 20),
                unique_id=f"open-{n}",
            )
    strategy = {"method": "smart_send_time", "date": TOMORROW.isoformat()}
    campaign = sendable(
        shop, {"name": "Smart", "audiences": {"included": [list_id]}, "send_strategy": strategy}
    )
    assert send(shop, campaign["id"]).status_code == 202
    _plan(db, account, campaign["id"], dt.datetime.combine(TOMORROW, dt.time(0, 0), tzinfo=dt.UTC))
    [row] = rows(db, account, campaign["message"])
    assert row.planned_for == dt.datetime.combine(TOMORROW, dt.time(17), tzinfo=dt.UTC)
