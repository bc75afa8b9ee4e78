"""The SQL report against the Python reference (reference.py) on random ledgers and events.

Each example is a fresh account holding flow and campaign sends to three profiles on three
channels, in every status, with opens, clicks (some by bots), unsubscribes, complaints, message
events of unknown messages, and orders: the flow report of a random window must equal the
reference's counts, and its statistics the ones derived from them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_account
from tests.profiles.factories import make_profile
from tests.reporting import reference
from tests.reporting.ledger import T0, Happened, Send, add_events, add_sends, metric_id
from tidings.db.session import Database
from tidings.reporting import service
from tidings.reporting.schemas import FlowValuesAttributes
from tidings.reporting.sources import FLOWS

MINUTE = dt.timedelta(minutes=1)
SPAN = 14 * 24 * 60  # two weeks, in minutes: longer than every attribution window
MESSAGES = [("F1", "M1"), ("F1", "M2"), ("F2", "M3"), (None, "C1")]  # C1: a campaign message
STATUSES = ["sent", "sent", "sent", "failed", "unknown", "skipped", "planned", "cancelled"]
METRICS = [*reference.KINDS, "Received Email"]

followups = st.lists(
    st.tuples(
        st.sampled_from([*METRICS, "Placed Order", "Placed Order"]),
        st.integers(0, 8 * 24 * 60),  # minutes after the send
        st.booleans(),  # a bot click
        st.booleans(),  # about another message (one nobody got)
        st.integers(0, 500),  # an order's value
    ),
    max_size=4,
)
sends_strategy = st.lists(
    st.tuples(
        st.integers(0, 2),  # profile
        st.sampled_from(MESSAGES),
        st.sampled_from(["email", "email", "sms", "push"]),
        st.sampled_from(STATUSES),
        st.integers(0, SPAN),  # sent, minutes after T0
        st.sampled_from([None, None, "soft", "hard"]),
        st.booleans(),  # first open on the row
        st.booleans(),  # first click on the row
        st.booleans(),  # complaint on the row
        followups,
    ),
    min_size=2,
    max_size=12,
)
events_strategy = st.lists(
    st.tuples(
        st.sampled_from(METRICS),
        st.integers(0, 2),
        st.sampled_from([*[m for _f, m in MESSAGES], "M9", None]),  # M9: nobody got it
        st.integers(0, SPAN),
        st.booleans(),  # a bot click
    ),
    max_size=6,
)
orders_strategy = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, SPAN), st.integers(0, 500)),
    max_size=4,
)
window_strategy = st.tuples(st.integers(0, SPAN // 2), st.integers(SPAN // 4, SPAN))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sends_strategy, events_strategy, orders_strategy, window_strategy)
def test_flow_report_equals_the_reference(
    db: Database, raw_sends: list[Any], raw_events: list[Any], raw_orders: list[Any], frame: tuple[int, int]
) -> None:
    keys = make_account(db, name="Property")
    profiles = [make_profile(db, keys.id, email=f"p{i}@shop.example") for i in range(3)]
    sends = []
    happened: list[Happened] = []
    for profile, (
        flow,
        message,
    ), channel, status, minute, bounce, opened, clicked, complained, more in raw_sends:
        at = T0 + minute * MINUTE
        for metric, after, bot, astray, value in more:
            when = at + after * MINUTE
            if metric == "Placed Order":
                happened.append(Happened(metric, profiles[profile], when, value=float(value), klaviyo=False))
                continue
            properties: dict[str, Any] = {"$message": "M9" if astray else message}
            if metric == "Clicked Email":
                properties["Bot Click"] = bot
            happened.append(Happened(metric, profiles[profile], when, properties))
        kind = "flow_action" if flow else "campaign_message"
        context = {"$message": message, **({"$flow": flow} if flow else {})}
        sends.append(
            Send(
                profiles[profile],
                kind,
                f"action-{message}" if flow else message,
                channel=channel,
                status=status,
                at=at,
                context=context if status in reference.ATTEMPTED else None,
                bounce_type=bounce if channel == "email" else None,
                bounced_at=at if bounce and channel == "email" else None,
                opened_at=at + MINUTE if opened else None,
                clicked_at=at + 2 * MINUTE if clicked else None,
                complained_at=at + 3 * MINUTE if complained and channel == "email" else None,
            )
        )
    happened += [
        Happened(
            metric,
            profiles[profile],
            T0 + minute * MINUTE,
            {
                **({"$message": message} if message else {}),
                **({"Bot Click": bot} if metric == "Clicked Email" else {}),
            },
        )
        for metric, profile, message, minute, bot in raw_events
    ]
    happened += [
        Happened("Placed Order", profiles[p], T0 + minute * MINUTE, value=float(value), klaviyo=False)
        for p, minute, value in raw_orders
    ]
    add_sends(db, keys.id, sends)
    if happened:
        add_events(db, keys.id, happened)
    order = metric_id(db, keys.id)
    start = T0 + frame[0] * MINUTE
    end = start + frame[1] * MINUTE

    expected = reference.counts(
        sends, happened, conversion_metric="Placed Order", source_kind="flow_action", start=start, end=end
    )
    attrs = FlowValuesAttributes.model_validate(
        {
            "statistics": ["recipients"],
            "timeframe": {"start": start.isoformat(), "end": end.isoformat()},
            "conversion_metric_id": order,
        }
    )
    with db.read() as session:
        counted = service._counted(session, keys.id, FLOWS, attrs, [service.Bucket(start, end)])[1]
        report = service.values(
            session,
            keys.id,
            FLOWS,
            attrs.model_copy(update={"statistics": ["delivered", "open_rate", "conversion_value"]}),
        )
    got = {c.groupings: c.counts for c in counted}
    assert set(got) == set(expected)
    for key, counts in expected.items():
        for name in service.repository.COUNTS:
            assert got[key][name] == pytest.approx(counts.get(name, 0.0)), (key, name)
    for row in report.results:
        key = tuple(row["groupings"][g] for g in ("flow_id", "flow_message_id", "send_channel"))
        derived = service.statistics({n: expected[key].get(n, 0.0) for n in service.repository.COUNTS})
        assert row["statistics"]["delivered"] == derived["delivered"]
        assert row["statistics"]["open_rate"] == pytest.approx(derived["open_rate"])
        assert row["statistics"]["conversion_value"] == pytest.approx(derived["conversion_value"])
