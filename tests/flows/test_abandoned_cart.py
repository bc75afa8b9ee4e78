"""The seeds' abandoned-cart flow, end to end: created through the official SDK, triggered by
events sent through it, advanced on virtual time, delivered to the outbox."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from tests.campaigns.conftest import Shop
from tests.flows.factories import abandoned_cart, body, email, linear, metric
from tests.flows.runkit import (
    advance,
    body_text,
    delivered,
    live,
    outbox,
    runs,
    sends,
    steps,
    track,
    virtual_time,
)
from tidings.config import Settings
from tidings.db.session import Database
from tidings.delivery.worker import DeliveryWorker
from tidings.jobs.worker import Worker


def test_the_abandoned_cart_flow_sends_the_right_email_to_the_right_people(
    sdk, shop: Shop, db: Database, settings: Settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    account = shop.keys.id
    with virtual_time() as clock:
        cart = metric(db, account, "Added to Cart")
        order = metric(db, account, "Placed Order")
        us = shop.make_template(
            "<p>Hi {{ person.first_name }}, your {{ event.ProductName }} waits (US)</p>", "US"
        )
        other = shop.make_template(
            "<p>Hello {{ person.first_name }}, your {{ event.ProductName }} waits</p>", "Other"
        )
        definition = abandoned_cart(cart, order, us, other)
        flow = sdk.Flows.create_flow(body("Abandoned cart", definition)).data.id
        live(sdk, flow)

        people = {
            "alice": {
                "email": "alice@example.com",
                "first_name": "Alice",
                "location": {"country": "United States"},
            },
            "bruno": {"email": "bruno@example.com", "first_name": "Bruno", "location": {"country": "France"}},
            "carol": {
                "email": "carol@example.com",
                "first_name": "Carol",
                "location": {"country": "United States"},
            },
        }
        for name, profile in people.items():
            track(sdk, "Added to Cart", profile, {"ProductName": f"Socks for {name}"})
        # A historic (backfilled) event never starts a flow.
        track(sdk, "Added to Cart", {"email": "old@example.com"}, {"ProductName": "Hat"}, backfill=True)
        advance(db)
        entered = runs(db, account, flow)
        assert len(entered) == 3 and {r.status for r in entered} == {"waiting"}
        assert not sends(db, account)

        clock.move(minutes=10)
        track(sdk, "Placed Order", people["carol"], {"OrderId": "1"})  # Carol buys: no email for her
        advance(db)
        clock.move(minutes=30)
        advance(db)
        assert not sends(db, account)  # 40 minutes: still waiting

        clock.move(minutes=21)
        advance(db)
        planned = sends(db, account)
        assert len(planned) == 2
        messages = delivered(db, settings, tmp_path)
        ours = {p["email"] for p in people.values()}  # other tests' planned rows may go out too
        by_to = {m["To"].split("<")[-1].rstrip(">"): m for m in messages}
        by_to = {to: m for to, m in by_to.items() if to in ours}
        assert sorted(by_to) == ["alice@example.com", "bruno@example.com"]
        assert by_to["alice@example.com"]["Subject"] == "Your cart misses you"
        assert "Hi Alice, your Socks for alice waits (US)" in body_text(by_to["alice@example.com"])
        assert by_to["bruno@example.com"]["Subject"] == "Still thinking it over?"
        assert "Hello Bruno, your Socks for bruno waits" in body_text(by_to["bruno@example.com"])

        done = {r.profile_id: r for r in runs(db, account, flow)}
        assert {r.status for r in done.values()} == {"completed"}
        carol = next(r for r in done.values() if r.id not in {s.run_id for s in planned})
        trace = steps(db, account, carol.id)
        assert trace[0] == ("entered", None)
        assert ("branched", "false") in trace and trace[-1] == ("completed", None)

        # Flow reports name the flow and its messages.
        attributes = {
            "statistics": ["recipients"],
            "timeframe": {
                "start": (clock.now - dt.timedelta(days=1)).isoformat(),
                "end": (clock.now + dt.timedelta(days=1)).isoformat(),
            },
            "conversion_metric_id": order,
            "group_by": ["flow_id", "flow_message_id", "flow_name", "flow_message_name"],
        }
        report = sdk.Reporting.query_flow_values(
            {"data": {"type": "flow-values-report", "attributes": attributes}}
        )
        named = sorted(
            (r.groupings["flow_name"], r.groupings["flow_message_name"], r.statistics["recipients"])
            for r in report.data.attributes.results
        )
        assert named == [
            ("Abandoned cart", "Still thinking it over?", 1),
            ("Abandoned cart", "Your cart misses you", 1),
        ]

        # Advancing again changes nothing: no second message for the same action and run.
        clock.move(hours=2)
        advance(db)
        assert len(sends(db, account)) == 2


def test_on_real_time_a_live_flow_is_delivered_by_the_running_workers(
    sdk, shop: Shop, db: Database, settings: Settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A zero-delay metric flow, from `create_event` to the outbox, with the in-process workers
    (jobs: events processed, runs entered and advanced; delivery) and no help from the test."""
    account = shop.keys.id
    trigger = metric(db, account, "Viewed Product")
    template = shop.make_template("<p>You looked at {{ event.Name }}</p>", "Viewed")
    flow = sdk.Flows.create_flow(
        body("Browse", linear({"type": "metric", "id": trigger}, email("e", template, "Seen it?")))
    ).data.id
    live(sdk, flow)
    jobs = Worker(db, index=5)
    deliveries = DeliveryWorker(db, outbox(settings, tmp_path))
    jobs.start()
    deliveries.start()
    try:
        track(sdk, "Viewed Product", {"email": "now@example.com"}, {"Name": "Boots"})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
            "now@example.com" in p.read_text() for p in (tmp_path / "outbox").glob("*/*.eml")
        ):
            time.sleep(0.05)
    finally:
        jobs.stop()
        deliveries.stop()
    mine = [p for p in (tmp_path / "outbox").glob("*/*.eml") if "now@example.com" in p.read_text()]
    (sent,) = mine  # other tests' planned rows may go out too
    assert "You looked at Boots" in sent.read_text()
    (run,) = runs(db, account, flow)
    assert run.status == "completed"
