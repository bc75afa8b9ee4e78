"""The event store every domain writes through: dedup, implicit metrics, property types, listeners."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.conftest import make_account
from tidings.db.ids import ulid
from tidings.events import hooks
from tidings.events.metrics import API, SAMPLE_VALUES, MetricKey
from tidings.events.store import NewEvent, record_event, write_events
from tidings.events.tables import Event, Metric, MetricProperty

T0 = dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)


def _events(db, account_id: str) -> list[Event]:
    with db.read() as session:
        return list(
            session.execute(
                select(Event).where(Event.account_id == account_id).order_by(Event.time)
            ).scalars()
        )


def test_metrics_are_created_once_by_name_and_integration(db) -> None:
    account = make_account(db)
    profile = ulid()
    with db.write() as session:
        write_events(session, account.id, [NewEvent(profile, MetricKey("Placed Order"), T0, unique_id="a")])
    with db.write() as session:
        write_events(session, account.id, [NewEvent(profile, MetricKey("Placed Order"), T0, unique_id="b")])
        record_event(session, account.id, profile_id=profile, metric_name="Placed Order")
    with db.read() as session:
        metrics = session.execute(select(Metric).where(Metric.account_id == account.id)).scalars().all()
    assert sorted((m.name, m.integration_key) for m in metrics) == [
        ("Placed Order", API),
        ("Placed Order", "klaviyo"),
    ]
    api_metric = next(m for m in metrics if m.integration_key == API)
    assert api_metric.integration["name"] == "API"


def test_unique_id_dedups_per_profile_and_metric_first_wins(db) -> None:
    account = make_account(db)
    alice, bob = ulid(), ulid()
    order = MetricKey("Placed Order")
    with db.write() as session:
        first = write_events(
            session,
            account.id,
            [
                NewEvent(alice, order, T0, {"n": 1}, unique_id="o1"),
                NewEvent(alice, order, T0, {"n": 2}, unique_id="o1"),  # same batch
                NewEvent(bob, order, T0, {"n": 3}, unique_id="o1"),  # other profile: kept
                NewEvent(alice, MetricKey("Refunded Order"), T0, {"n": 4}, unique_id="o1"),  # other metric
            ],
        )
    with db.write() as session:
        again = write_events(session, account.id, [NewEvent(alice, order, T0, {"n": 5}, unique_id="o1")])
    assert len(first) == 3 and again == []
    assert sorted(e.properties["n"] for e in _events(db, account.id)) == [1, 3, 4]


def test_without_unique_id_one_event_per_second(db) -> None:
    account = make_account(db)
    alice = ulid()
    viewed = MetricKey("Viewed Product")
    with db.write() as session:
        write_events(
            session,
            account.id,
            [
                NewEvent(alice, viewed, T0),
                NewEvent(alice, viewed, T0 + dt.timedelta(milliseconds=200)),
                NewEvent(alice, viewed, T0 + dt.timedelta(seconds=1)),
            ],
        )
    events = _events(db, account.id)
    assert [e.unique_id for e in events] == [str(int(T0.timestamp())), str(int(T0.timestamp()) + 1)]
    assert events[0].time == T0.replace(microsecond=0)


def test_metric_properties_record_top_level_names_and_types(db) -> None:
    account = make_account(db)
    props = {
        "Total": 12.5,
        "Items": ["a"],
        "Shipping": {"city": "X"},
        "When": "2026-01-01",
        "Gift": True,
        "$extra": {},
    }
    with db.write() as session:
        write_events(session, account.id, [NewEvent(ulid(), MetricKey("Placed Order"), T0, props)])
    with db.read() as session:
        rows = (
            session.execute(select(MetricProperty).where(MetricProperty.account_id == account.id))
            .scalars()
            .all()
        )
    assert {r.property: r.inferred_type for r in rows} == {
        "Total": "number",
        "Items": "list",
        "Shipping": "object",
        "When": "date",
        "Gift": "boolean",
    }


def test_listeners_hear_written_events_only(db) -> None:
    account = make_account(db)
    heard: list[hooks.WrittenEvent] = []

    def listener(session, account_id, written) -> None:
        if account_id == account.id:
            heard.extend(written)

    hooks.EVENTS_WRITTEN.register(listener)
    try:
        with db.write() as session:
            write_events(session, account.id, [NewEvent(ulid(), MetricKey("X"), T0, unique_id="1")] * 2)
    finally:
        hooks.EVENTS_WRITTEN.unregister(listener)
    assert len(heard) == 1 and heard[0].time == T0.replace(microsecond=0)


def test_record_event_is_idempotent_with_a_unique_id(db) -> None:
    account = make_account(db)
    alice = ulid()
    with db.write() as session:
        first = record_event(
            session, account.id, profile_id=alice, metric_name="Subscribed to List", unique_id="L1"
        )
        second = record_event(
            session, account.id, profile_id=alice, metric_name="Subscribed to List", unique_id="L1"
        )
    assert first is not None and second is None


def _properties(db, account_id: str) -> dict[str, MetricProperty]:
    with db.read() as session:
        rows = session.execute(select(MetricProperty).where(MetricProperty.account_id == account_id))
        return {r.property: r for r in rows.scalars()}


def test_sample_values_collect_distinct_values_across_a_batch(db) -> None:
    account = make_account(db)
    viewed = MetricKey("Viewed Product")
    events = [
        NewEvent(
            ulid(),
            viewed,
            T0,
            {"Tag": f"t{i % 12}", "Flag": None, "Items": [i], "L" * 256: 1},
            unique_id=str(i),
        )
        for i in range(250)
    ]
    with db.write() as session:
        write_events(session, account.id, events)
    props = _properties(db, account.id)
    assert props["Tag"].sample_values == [f"t{i}" for i in range(SAMPLE_VALUES)]
    assert props["Items"].sample_values == []  # only scalars are samples (the spec's type)
    assert "Flag" not in props  # only nulls: nothing known yet
    assert "L" * 256 not in props  # the event is kept; the name is too long to list


def test_null_does_not_fix_a_property_type(db) -> None:
    account = make_account(db)
    order = MetricKey("Placed Order")
    with db.write() as session:
        write_events(
            session,
            account.id,
            [
                NewEvent(ulid(), order, T0, {"Total": None, "Later": None}, unique_id="a"),
                NewEvent(ulid(), order, T0, {"Total": 12.5}, unique_id="b"),
            ],
        )
    with db.write() as session:
        write_events(session, account.id, [NewEvent(ulid(), order, T0, {"Later": 3}, unique_id="c")])
    with db.write() as session:
        write_events(session, account.id, [NewEvent(ulid(), order, T0, {"Later": "x"}, unique_id="d")])
    props = _properties(db, account.id)
    assert (props["Total"].inferred_type, props["Total"].sample_values) == ("number", [12.5])
    assert (props["Later"].inferred_type, props["Later"].sample_values) == ("number", [3, "x"])


def test_samples_fill_up_over_batches_and_then_stop(db) -> None:
    account = make_account(db)
    order = MetricKey("Placed Order")
    for batch in range(3):
        with db.write() as session:
            write_events(
                session,
                account.id,
                [
                    NewEvent(ulid(), order, T0, {"n": batch * 4 + i}, unique_id=f"{batch}-{i}")
                    for i in range(4)
                ],
            )
    assert _properties(db, account.id)["n"].sample_values == list(range(SAMPLE_VALUES))
