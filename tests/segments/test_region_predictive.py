"""profile-region and the historic predictive dimensions (from Placed Order events)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import make_account
from tidings.db.ids import ulid
from tidings.events.metrics import MetricKey
from tidings.events.store import NewEvent, write_events
from tidings.profiles.tables import Profile
from tidings.segments import compiler, sql
from tidings.segments.definition import SegmentDefinition

NOW = dt.datetime(2026, 6, 15, tzinfo=dt.UTC)


@pytest.fixture
def shoppers(db) -> tuple[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """paris: 2 orders 10 days apart (10 + 30); boston: 1 order of 5; nobody: no order, no country."""
    account = make_account(db)
    ids = {"paris": ulid(), "boston": ulid(), "nobody": ulid()}
    with db.write() as session:
        session.add(
            Profile(account_id=account.id, id=ids["paris"], location={"country": "France"}, properties={})
        )
        session.add(
            Profile(account_id=account.id, id=ids["boston"], location={"country": "US"}, properties={})
        )
        session.add(Profile(account_id=account.id, id=ids["nobody"], properties={}))
        session.flush()

        def order(pid: str, days_ago: int, value: float) -> NewEvent:
            return NewEvent(
                profile_id=pid,
                metric=MetricKey("Placed Order"),
                time=NOW - dt.timedelta(days=days_ago),
                value=value,
                unique_id=ulid(),
            )

        write_events(
            session,
            account.id,
            [order(ids["paris"], 20, 10.0), order(ids["paris"], 10, 30.0), order(ids["boston"], 5, 5.0)],
        )
    return account.id, ids


def _predictive(dimension: str, operator: str, value: float) -> dict[str, Any]:
    return {
        "type": "profile-predictive-analytics",
        "dimension": dimension,
        "filter": {"type": "numeric", "operator": operator, "value": value},
    }


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"type": "profile-region", "in_region": True, "region": "european_union"}, {"paris"}),
        ({"type": "profile-region", "in_region": True, "region": "united_states"}, {"boston"}),
        ({"type": "profile-region", "in_region": False, "region": "european_union"}, {"boston", "nobody"}),
        (_predictive("historic_clv", "greater-than", 20), {"paris"}),
        (_predictive("historic_number_of_orders", "equals", 0), {"nobody"}),
        (_predictive("historic_number_of_orders", "greater-than-or-equal", 1), {"paris", "boston"}),
        (_predictive("average_order_value", "equals", 20), {"paris"}),
        (_predictive("average_order_value", "less-than", 10), {"boston"}),
        (_predictive("average_days_between_orders", "equals", 10), {"paris"}),
    ],
)
def test_region_and_predictive(db, shoppers, condition: dict[str, Any], expected: set[str]) -> None:  # type: ignore[no-untyped-def]
    account_id, ids = shoppers
    definition = SegmentDefinition.model_validate({"condition_groups": [{"conditions": [condition]}]})
    with db.read() as session:
        predicate = compiler.compile_definition(sql.Context(session, account_id, NOW), definition)
        got = set(
            session.execute(select(Profile.id).where(Profile.account_id == account_id, predicate)).scalars()
        )
    assert got == {ids[name] for name in expected}


def test_predicted_dimensions_are_refused(db) -> None:  # type: ignore[no-untyped-def]
    definition = SegmentDefinition.model_validate(
        {"condition_groups": [{"conditions": [_predictive("predicted_clv", "greater-than", 1)]}]}
    )
    with db.read() as session, pytest.raises(sql.Unsupported) as caught:
        compiler.compile_definition(sql.Context(session, "nobody", NOW), definition)
    assert caught.value.where == "/condition_groups/0/conditions/0/dimension"
