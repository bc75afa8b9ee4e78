"""Time passing: stored next-change instants, the tick that re-evaluates only what is due,
and the membership events every entry and exit records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import make_account
from tidings.db.base import set_clock
from tidings.db.ids import ulid
from tidings.events.metrics import MetricKey
from tidings.events.store import NewEvent, write_events
from tidings.events.tables import Event, Metric
from tidings.jobs.queue import enqueue
from tidings.jobs.registry import PERIODIC
from tidings.jobs.worker import drain
from tidings.jsonapi.documents import iso
from tidings.profiles.tables import Profile
from tidings.segments import clock, membership
from tidings.segments import service as segments
from tidings.segments.explain import explain
from tidings.segments.tables import SegmentChange, SegmentMember


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        self.start = self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


@pytest.fixture
def frozen() -> Iterator[Clock]:
    c = Clock()
    set_clock(lambda: c.now)
    yield c
    set_clock(None)


def _profiles(db, account_id: str, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    ids = [ulid() for _ in range(count)]
    with db.write() as session:
        for pid in ids:
            session.add(
                Profile(account_id=account_id, id=pid, email=f"{pid.lower()}@example.com", properties={})
            )
    return ids


def _orders(db, account_id: str, items: list[tuple[str, dt.datetime]], metric: str = "Placed Order") -> None:  # type: ignore[no-untyped-def]
    with db.write() as session:
        write_events(
            session,
            account_id,
            [NewEvent(pid, MetricKey(metric), at, unique_id=ulid()) for pid, at in items],
        )


def _metric(db, account_id: str, name: str) -> str:  # type: ignore[no-untyped-def]
    with db.read() as session:
        return str(
            session.execute(
                select(Metric.id).where(Metric.account_id == account_id, Metric.name == name)
            ).scalar_one()
        )


def _count_condition(metric_id: str, operator: str, value: int, timeframe: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "profile-metric",
        "metric_id": metric_id,
        "measurement": "count",
        "measurement_filter": {"type": "numeric", "operator": operator, "value": value},
        "timeframe_filter": timeframe,
    }


def _segment(db, account_id: str, *conditions: dict[str, Any], name: str = "S") -> str:  # type: ignore[no-untyped-def]
    with db.write() as session:
        attributes = {"name": name, "definition": {"condition_groups": [{"conditions": list(conditions)}]}}
        segment_id = segments.create_segment(session, account_id, attributes).id
    drain(db)
    return segment_id


def _members(db, account_id: str, segment_id: str) -> set[str]:  # type: ignore[no-untyped-def]
    with db.read() as session:
        stmt = select(SegmentMember.profile_id).where(
            SegmentMember.account_id == account_id, SegmentMember.segment_id == segment_id
        )
        return set(session.execute(stmt).scalars())


def _instants(db, account_id: str, segment_id: str) -> dict[str, dt.datetime]:  # type: ignore[no-untyped-def]
    with db.read() as session:
        return clock.instants(session, account_id, segment_id)


def _tick(db) -> None:  # type: ignore[no-untyped-def]
    """What a worker does every few seconds: enqueue the tick, run what is due."""
    with db.write() as session:
        enqueue(session, segments.TICK_JOB, {"test": ulid()})
    drain(db)


LAST_30_DAYS = {"type": "date", "operator": "in-the-last", "quantity": 30, "unit": "day"}
AT_LEAST_7_DAYS_AGO = {"type": "date", "operator": "at-least", "quantity": 7, "unit": "day"}
SECOND = dt.timedelta(seconds=1)
DAY = dt.timedelta(days=1)
MICRO = dt.timedelta(microseconds=1)


def test_time_moves_profiles_out_and_in(db, frozen: Clock) -> None:  # type: ignore[no-untyped-def]
    account = make_account(db)
    leaving, gone, arriving = _profiles(db, account.id, 3)
    t0 = frozen.now
    _orders(db, account.id, [(leaving, t0 - 29 * DAY), (gone, t0 - 40 * DAY), (arriving, t0 - 2 * DAY)])
    placed = _metric(db, account.id, "Placed Order")
    recent = _segment(db, account.id, _count_condition(placed, "greater-than-or-equal", 1, LAST_30_DAYS))
    aged = _segment(db, account.id, _count_condition(placed, "greater-than-or-equal", 1, AT_LEAST_7_DAYS_AGO))
    assert _members(db, account.id, recent) == {leaving, arriving}
    assert _members(db, account.id, aged) == {leaving, gone}
    # The order leaves "the last 30 days" just after t - 29 days + 30 days; "at least 7 days ago"
    # becomes true for the newest order at t - 2 days + 7 days.
    assert _instants(db, account.id, recent) == {leaving: t0 + DAY + MICRO, arriving: t0 + 28 * DAY + MICRO}
    assert _instants(db, account.id, aged) == {arriving: t0 + 5 * DAY}
    with db.read() as session:
        segment = segments.get_segment(session, account.id, recent)
        explained = explain(session, account.id, segment, leaving)
    assert explained["is_member"] and explained["next_change_at"] == iso(t0 + DAY + MICRO)

    frozen.advance(DAY)  # exactly on the boundary: still inside
    _tick(db)
    assert _members(db, account.id, recent) == {leaving, arriving}
    frozen.advance(SECOND)
    _tick(db)
    assert _members(db, account.id, recent) == {arriving}
    assert leaving not in _instants(db, account.id, recent)  # nothing left to wait for

    frozen.advance(4 * DAY)
    _tick(db)
    assert _members(db, account.id, aged) == {leaving, gone, arriving}
    assert _instants(db, account.id, aged) == {}
    with db.read() as session:
        history = session.execute(
            select(SegmentChange.profile_id, SegmentChange.entered, SegmentChange.reason).where(
                SegmentChange.account_id == account.id, SegmentChange.reason == "time"
            )
        ).all()
    assert sorted(history) == sorted([(leaving, False, "time"), (arriving, True, "time")])


def test_tick_evaluates_only_what_is_due(db, frozen: Clock, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    account = make_account(db)
    people = _profiles(db, account.id, 6)
    t0 = frozen.now
    _orders(db, account.id, [(pid, t0 - (20 + 2 * i) * DAY) for i, pid in enumerate(people)])
    placed = _metric(db, account.id, "Placed Order")
    segment_id = _segment(db, account.id, _count_condition(placed, "greater-than-or-equal", 1, LAST_30_DAYS))
    _segment(
        db,
        account.id,
        {
            "type": "profile-property",
            "property": "email",
            "filter": {"type": "existence", "operator": "is-set"},
        },
    )
    assert _members(db, account.id, segment_id) == set(people)

    seen: list[Any] = []
    original = membership.matching

    def spy(session, account_id, predicate, profile_ids):  # type: ignore[no-untyped-def]
        seen.append(None if profile_ids is None else sorted(profile_ids))
        return original(session, account_id, predicate, profile_ids)

    monkeypatch.setattr(membership, "matching", spy)
    _tick(db)
    assert seen == []  # nothing due: no evaluation at all
    frozen.advance(SECOND)  # the oldest order (30 days) is out; the next (28 days) still in
    _tick(db)
    assert seen == [[people[5]]]  # that profile, that segment: no rescan
    assert _members(db, account.id, segment_id) == set(people[:5])
    assert "segments.sweep" not in PERIODIC
    assert PERIODIC[segments.TICK_JOB].every_seconds <= 10


def test_count_threshold_instant(db, frozen: Clock) -> None:  # type: ignore[no-untyped-def]
    """At least 3 orders in the last 30 days with 5 inside: out when the third-oldest leaves."""
    account = make_account(db)
    [buyer] = _profiles(db, account.id, 1)
    t0 = frozen.now
    ages = [1, 3, 10, 20, 25]
    _orders(db, account.id, [(buyer, t0 - age * DAY) for age in ages])
    placed = _metric(db, account.id, "Placed Order")
    segment_id = _segment(db, account.id, _count_condition(placed, "greater-than-or-equal", 3, LAST_30_DAYS))
    assert _members(db, account.id, segment_id) == {buyer}
    due = t0 - 10 * DAY + 30 * DAY + MICRO
    assert _instants(db, account.id, segment_id) == {buyer: due}
    frozen.now = due - MICRO
    _tick(db)
    assert _members(db, account.id, segment_id) == {buyer}
    frozen.now = due
    _tick(db)
    assert _members(db, account.id, segment_id) == set()


def test_membership_changes_are_a_change_log_not_events(db, client, frozen: Clock) -> None:  # type: ignore[no-untyped-def]
    """Entries and exits go to the change log, listed under /api/x-tidings/; the events API and
    the metrics list show only what integrations sent (Klaviyo has no "Entered Segment")."""
    account = make_account(db)
    [buyer] = _profiles(db, account.id, 1)
    t0 = frozen.now
    _orders(db, account.id, [(buyer, t0 - 29 * DAY)])
    placed = _metric(db, account.id, "Placed Order")
    recent = _segment(
        db, account.id, _count_condition(placed, "greater-than-or-equal", 1, LAST_30_DAYS), name="Recent"
    )
    assert _members(db, account.id, recent) == {buyer}
    frozen.advance(DAY + SECOND)
    _tick(db)
    assert drain(db) == 0
    assert _members(db, account.id, recent) == set()

    response = client.get(f"/api/x-tidings/segments/{recent}/changes", headers=account.headers())
    assert response.status_code == 200, response.text
    changes = [item["attributes"] for item in response.json()["data"]]
    assert [(c["profile_id"], c["action"], c["reason"]) for c in changes] == [
        (buyer, "entered", "build"),
        (buyer, "exited", "time"),
    ]
    assert changes[1]["at"] == iso(frozen.now)
    exits = client.get(
        f"/api/x-tidings/segments/{recent}/changes",
        params={"filter": "equals(entered,false)"},
        headers=account.headers(),
    )
    assert [item["attributes"]["action"] for item in exits.json()["data"]] == ["exited"]

    metrics = client.get("/api/metrics", headers=account.headers()).json()["data"]
    assert [m["attributes"]["name"] for m in metrics] == ["Placed Order"]
    events = client.get(
        "/api/events", params={"filter": f'equals(profile_id,"{buyer}")'}, headers=account.headers()
    )
    assert [e["relationships"]["metric"]["data"]["id"] for e in events.json()["data"]] == [placed]
    with db.read() as session:
        profile = session.get(Profile, (account.id, buyer))
        assert profile is not None and profile.last_event_date == t0 - 29 * DAY
        stored = session.execute(select(Event.metric_id).where(Event.account_id == account.id)).scalars()
        assert list(stored) == [placed]


def test_profile_update_moves_profile(sdk, db, account) -> None:  # type: ignore[no-untyped-def]
    gold = {
        "type": "profile-property",
        "property": "properties['tier']",
        "filter": {"type": "string", "operator": "equals", "value": "gold"},
    }
    body = {"data": {"type": "profile", "attributes": {"email": f"{ulid().lower()}@example.com"}}}
    profile_id = sdk.Profiles.create_profile(body).data.id
    segment_id = _segment(db, account.id, gold)
    assert _members(db, account.id, segment_id) == set()

    def update(tier: str) -> None:
        patch = {"data": {"type": "profile", "id": profile_id, "attributes": {"properties": {"tier": tier}}}}
        sdk.Profiles.update_profile(profile_id, patch)
        drain(db)

    update("gold")
    assert _members(db, account.id, segment_id) == {profile_id}
    update("silver")
    assert _members(db, account.id, segment_id) == set()


def test_profile_update_visible_within_a_second(sdk, db, account) -> None:  # type: ignore[no-untyped-def]
    import time

    from tidings.jobs.worker import Worker

    gold = {
        "type": "profile-property",
        "property": "properties['tier']",
        "filter": {"type": "string", "operator": "equals", "value": "gold"},
    }
    segment_id = _segment(db, account.id, gold)
    body = {"data": {"type": "profile", "attributes": {"email": f"{ulid().lower()}@example.com"}}}
    profile_id = sdk.Profiles.create_profile(body).data.id
    drain(db)
    worker = Worker(db, index=7)
    worker.start()
    try:
        started = time.monotonic()
        patch = {
            "data": {"type": "profile", "id": profile_id, "attributes": {"properties": {"tier": "gold"}}}
        }
        sdk.Profiles.update_profile(profile_id, patch)
        while time.monotonic() - started < 5:
            if profile_id in {p.id for p in sdk.Segments.get_profiles_for_segment(segment_id).data}:
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - started
    finally:
        worker.stop()
    assert elapsed < 2.0, f"the update showed after {elapsed:.2f} s"


def test_consent_change_moves_profile(sdk, db, account) -> None:  # type: ignore[no-untyped-def]
    reachable = {
        "type": "profile-marketing-consent",
        "consent": {
            "channel": "email",
            "can_receive_marketing": True,
            "consent_status": {"subscription": "any"},
        },
    }
    body = {"data": {"type": "profile", "attributes": {"email": f"{ulid().lower()}@example.com"}}}
    profile_id = sdk.Profiles.create_profile(body).data.id
    segment_id = _segment(db, account.id, reachable)
    assert profile_id in _members(db, account.id, segment_id)
    from tidings.consent import service as consent
    from tidings.consent.policy import SuppressionReason

    with db.write() as session:  # a bounce: no event is recorded, the profile hook still tells
        consent.suppress(session, account.id, profile_id, SuppressionReason.HARD_BOUNCE)
    drain(db)
    assert profile_id not in _members(db, account.id, segment_id)


def test_updates_of_one_transaction_make_one_job(db) -> None:  # type: ignore[no-untyped-def]
    from tidings.jobs.tables import Job

    account = make_account(db)
    with db.write() as session:
        segments.enqueue_update(session, account.id, ["p1", "p2"], "event")
        with session.begin_nested():
            segments.enqueue_update(session, account.id, ["p2", "p3"], "profile")
        try:
            with session.begin_nested():
                segments.enqueue_update(session, account.id, ["p4"], "event")
                raise RuntimeError
        except RuntimeError:
            pass
    with pytest.raises(RuntimeError), db.write() as session:
        segments.enqueue_update(session, account.id, ["p9"], "event")
        raise RuntimeError
    with db.read() as session:
        jobs = session.execute(
            select(Job.payload).where(Job.account_id == account.id, Job.name == segments.UPDATE_JOB)
        ).scalars()
        payloads = sorted((p["reason"], p["profile_ids"]) for p in jobs)
    # p4's savepoint rolled back: asking for it anyway costs one evaluation, never a lost one.
    assert payloads == [("event", ["p1", "p2", "p4"]), ("profile", ["p3"])]
    drain(db)


def test_consent_dates_have_instants(db) -> None:  # type: ignore[no-untyped-def]
    from tidings.consent.tables import EmailSuppression, Subscription
    from tidings.segments import instants, sql
    from tidings.segments.definition import SegmentDefinition

    now = dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC)
    account = make_account(db)
    subscribed, bounced = _profiles(db, account.id, 2)
    with db.write() as session:
        session.add(
            Subscription(
                account_id=account.id,
                profile_id=subscribed,
                channel="email",
                purpose="marketing",
                consent="SUBSCRIBED",
                consent_timestamp=now - 20 * DAY,
            )
        )
        session.add(
            EmailSuppression(
                account_id=account.id, profile_id=bounced, reason="HARD_BOUNCE", timestamp=now - DAY
            )
        )

    def condition(can: bool, field: str) -> dict[str, Any]:
        status = {"subscription": "any", "filters": [{"field": field, "filter": LAST_30_DAYS}]}
        return {
            "type": "profile-marketing-consent",
            "consent": {"channel": "email", "can_receive_marketing": can, "consent_status": status},
        }

    definition = SegmentDefinition.model_validate(
        {
            "condition_groups": [
                {"conditions": [condition(True, "status_date"), condition(False, "bounce_date")]}
            ]
        }
    )
    with db.read() as session:
        ctx = sql.Context(session, account.id, now)
        due = instants.next_changes(session, instants.parts(ctx, definition), None, now)
    assert due == {subscribed: now + 10 * DAY + MICRO, bounced: now + 29 * DAY + MICRO}
