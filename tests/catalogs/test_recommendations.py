"""Recommendations (tidings/catalogs/recommendations.py) against a plain-Python computation of
the same method, on random purchases, items and categories."""

from __future__ import annotations

import datetime as dt
import random
import string
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import make_account
from tidings.catalogs import recommendations
from tidings.catalogs.recommendations import (
    WINDOW_DAYS,
    build_snapshot,
    event_product_ids,
    recommend,
    recommended_item_ids,
    window_start,
)
from tidings.catalogs.tables import CatalogCategory, CatalogItem, CatalogItemCategory
from tidings.db.ids import ulid
from tidings.db.session import Database
from tidings.events.tables import Event, Metric

PREFIX = "$custom:::$default:::"
NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
PRODUCTS = ["p1", "p2", "p3", "p4", "p5", "p6", "7"]
PROFILES = ["A", "B", "C", "D", "E"]


@dataclass(frozen=True)
class Purchase:
    profile: str
    products: tuple[str, ...]
    days_ago: int
    placed: bool  # a Placed Order with Items[], else one Ordered Product per product


def _metric_id() -> str:
    return "".join(random.choices(string.ascii_letters, k=6))


def seed(
    db: Database,
    account_id: str,
    *,
    purchases: Iterable[Purchase],
    items: dict[str, bool],  # product id -> published
    categories: dict[str, set[str]],  # category -> product ids
    other_events: bool = True,
    now: dt.datetime = NOW,
) -> None:
    with db.write() as session:
        placed, ordered, viewed = (
            _metric(session, account_id, name)
            for name in ("Placed Order", "Ordered Product", "Viewed Product")
        )
        for product, published in items.items():
            session.add(
                CatalogItem(
                    account_id=account_id,
                    id=PREFIX + product,
                    external_id=product,
                    title=f"Item {product}",
                    description="",
                    url=f"https://shop.example.com/{product}",
                    published=published,
                )
            )
        for name, members in categories.items():
            session.add(CatalogCategory(account_id=account_id, id=PREFIX + name, external_id=name, name=name))
            for product in members:
                session.add(
                    CatalogItemCategory(
                        account_id=account_id, item_id=PREFIX + product, category_id=PREFIX + name
                    )
                )
        for n, purchase in enumerate(purchases):
            when = now - dt.timedelta(days=purchase.days_ago, hours=1)
            rows: list[tuple[str, dict[str, Any]]]
            if purchase.placed:
                # Numbers as product ids, an element that is not an object, one without an id.
                items_prop: list[Any] = [
                    {"ProductID": int(p) if p.isdigit() else p, "Quantity": 1} for p in purchase.products
                ]
                items_prop += ["junk", {"ProductName": "no id"}]
                rows = [(placed.id, {"Items": items_prop, "ItemNames": list(purchase.products)})]
            else:
                rows = [(ordered.id, {"ProductID": p}) for p in purchase.products]
            for metric_id, properties in rows:
                session.add(_event(account_id, metric_id, purchase.profile, when, properties, n))
        if other_events:
            # Not purchases: a view, an order whose Items is not a list, an order without items.
            session.add(_event(account_id, viewed.id, "B", now, {"ProductID": "p1"}, 10_000))
            session.add(_event(account_id, placed.id, "B", now, {"Items": {"ProductID": "p2"}}, 10_001))
            session.add(_event(account_id, placed.id, "B", now, {"Items": "p3"}, 10_002))
            session.add(_event(account_id, ordered.id, "B", now, {"ProductID": None}, 10_003))


def _metric(session: Session, account_id: str, name: str) -> Metric:
    found = session.execute(
        select(Metric).where(Metric.account_id == account_id, Metric.name == name)
    ).scalar()
    if found is None:
        found = Metric(account_id=account_id, id=_metric_id(), name=name, integration_key="api")
        session.add(found)
    return found


def _event(
    account_id: str, metric_id: str, profile: str, when: dt.datetime, props: dict[str, Any], n: int
) -> Event:
    return Event(
        account_id=account_id,
        id=ulid(),
        metric_id=metric_id,
        profile_id=profile,
        time=when,
        properties=props,
        unique_id=f"{n}-{ulid()}",
        source="api",
    )


def brute(
    purchases: list[Purchase],
    items: dict[str, bool],
    categories: dict[str, set[str]],
    profile: str | None,
    count: int,
    exclude: set[str] = frozenset(),  # type: ignore[assignment]
    cap: int = 1000,
) -> list[str]:
    """The documented method, in plain Python."""
    since = recommendations.window_start(NOW)
    pairs = [(p.profile, product) for p in purchases for product in p.products]
    recent = {
        (p.profile, product)
        for p in purchases
        for product in p.products
        if NOW - dt.timedelta(days=p.days_ago, hours=1) >= since
    }
    mine = {product for who, product in pairs if who == profile}
    shared: dict[str, int] = defaultdict(int)
    for who, product in recent:
        if product in mine and who != profile:
            shared[who] += 1
    neighbours = set(sorted(shared, key=lambda who: (-shared[who], who))[:cap])
    co: dict[str, set[str]] = defaultdict(set)
    buyers: dict[str, set[str]] = defaultdict(set)
    for who, product in recent:
        buyers[product].add(who)
        if who in neighbours:
            co[product].add(who)
    my_categories = {c for c, members in categories.items() if members & mine}
    same = {p for c in my_categories for p in categories[c]}
    ranked = []
    for product, published in items.items():
        if not published or product in mine or product in exclude:
            continue
        score, pop = len(co[product]), len(buyers[product])
        if not (score or pop or product in same):
            continue
        tier = 0 if score else 1 if product in same else 2
        ranked.append(((tier, -score, -pop, PREFIX + product), PREFIX + product))
    return [item for _key, item in sorted(ranked)][:count]


purchase = st.builds(
    Purchase,
    profile=st.sampled_from(PROFILES),
    products=st.lists(st.sampled_from(PRODUCTS), min_size=1, max_size=3, unique=True).map(tuple),
    days_ago=st.sampled_from([0, 1, 30, WINDOW_DAYS - 1, WINDOW_DAYS, WINDOW_DAYS + 5, 400]),
    placed=st.booleans(),
)
catalog = st.dictionaries(st.sampled_from(PRODUCTS), st.booleans(), min_size=1)
category_sets = st.dictionaries(
    st.sampled_from(["c1", "c2", "c3"]), st.sets(st.sampled_from(PRODUCTS), max_size=4), max_size=3
)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    purchases=st.lists(purchase, max_size=12),
    items=catalog,
    categories=category_sets,
    profile=st.one_of(st.none(), st.sampled_from(PROFILES)),
    count=st.integers(1, 8),
    exclude=st.sets(st.sampled_from(PRODUCTS), max_size=2),
    cap=st.sampled_from([1, 2, 1000]),
)
def test_recommendations_match_brute_force(
    db: Database,
    purchases: list[Purchase],
    items: dict[str, bool],
    categories: dict[str, set[str]],
    profile: str | None,
    count: int,
    exclude: set[str],
    cap: int,
) -> None:
    account = make_account(db)
    categories = {c: {p for p in members if p in items} for c, members in categories.items()}
    seed(db, account.id, purchases=purchases, items=items, categories=categories)
    with db.write() as session:
        build_snapshot(session, account.id, window_start(NOW))
        got = recommended_item_ids(
            session, account.id, profile, count, exclude=exclude, now=NOW, neighbours=cap
        )
    assert got == brute(purchases, items, categories, profile, count, exclude, cap)


def test_tiers_on_a_small_shop(db: Database) -> None:
    """A bought p1; B and C also bought p1 and then p2 (twice as often as p3, bought by B only);
    p4 shares a category with p1; p5 is popular with D alone; p6 is unpublished."""
    account = make_account(db)
    purchases = [
        Purchase("A", ("p1",), 2, True),
        Purchase("B", ("p1", "p2", "p3"), 3, True),
        Purchase("C", ("p1",), 3, False),
        Purchase("C", ("p2",), 1, False),
        Purchase("D", ("p5", "p6"), 1, True),
        Purchase("E", ("p5",), 1, True),
    ]
    items = {p: p != "p6" for p in ["p1", "p2", "p3", "p4", "p5", "p6"]}
    categories = {"boots": {"p1", "p4"}}
    seed(db, account.id, purchases=purchases, items=items, categories=categories, other_events=False)
    other = make_account(db)
    with db.write() as session:
        build_snapshot(session, account.id, window_start(NOW))
        build_snapshot(session, other.id, window_start(NOW))
        got = recommend(session, account.id, "A", 10, now=NOW)
        assert [i.external_id for i in got] == ["p2", "p3", "p4", "p5"]
        assert got[2].categories == ["boots"]
        # The triggering event's items are left out; someone with no history gets popularity.
        assert recommended_item_ids(session, account.id, "A", 2, exclude={"p2"}, now=NOW) == [
            PREFIX + "p3",
            PREFIX + "p4",
        ]
        assert recommended_item_ids(session, account.id, "nobody", 2, now=NOW) == [
            PREFIX + "p1",
            PREFIX + "p2",
        ]
        # Another account sees none of it.
        assert recommended_item_ids(session, other.id, "A", 4, now=NOW) == []


def test_one_statement_for_the_ranking_and_three_for_the_items(db: Database) -> None:
    account = make_account(db)
    purchases = [Purchase("A", ("p1",), 2, True), Purchase("B", ("p1", "p2", "p3", "p4"), 3, False)]
    seed(db, account.id, purchases=purchases, items=dict.fromkeys(PRODUCTS, True), categories={})
    statements: list[str] = []
    with db.write() as session:
        build_snapshot(session, account.id, window_start(NOW))
        engine = session.get_bind()

        def count(*args: Any) -> None:
            if str(args[2]).lstrip().upper().startswith(("SELECT", "WITH")):
                statements.append(str(args[2]))

        sa_event.listen(engine, "before_cursor_execute", count)
        try:
            got = recommend(session, account.id, "A", 3, now=NOW)
        finally:
            sa_event.remove(engine, "before_cursor_execute", count)
    assert [i.external_id for i in got] == ["p2", "p3", "p4"]
    # The snapshot's row, metrics, the people alike, the ranking, then items, variants and
    # categories: none per item.
    assert len(statements) == 7


def test_event_product_ids() -> None:
    assert event_product_ids(None) == []
    assert event_product_ids({"ProductID": 12}) == ["12"]
    assert event_product_ids({"Items": [{"ProductID": "a"}, "x", {"ProductID": None}]}) == ["a"]
    assert event_product_ids({"$extra": {"line_items": [{"product_id": 5}]}}) == ["5"]


def test_the_snapshot_holds_its_day_until_the_next_one_is_built(db: Database) -> None:
    account = make_account(db)
    seed(
        db,
        account.id,
        purchases=[Purchase("B", ("p1",), 1, True)],
        items=dict.fromkeys(PRODUCTS, True),
        categories={},
    )
    with db.write() as session:
        assert build_snapshot(session, account.id, window_start(NOW))
        assert not build_snapshot(session, account.id, window_start(NOW))  # kept: same window
        assert recommended_item_ids(session, account.id, None, 2, now=NOW) == [PREFIX + "p1"]
    # Purchases after the snapshot count once the next one is built; until then (even days
    # later) the message reads the old one.
    seed(
        db,
        account.id,
        purchases=[Purchase("C", ("p2",), 0, False)],
        items={},
        categories={},
        other_events=False,
    )
    tomorrow = NOW + dt.timedelta(days=1)
    with db.write() as session:
        assert recommended_item_ids(session, account.id, None, 2, now=tomorrow) == [PREFIX + "p1"]
        assert build_snapshot(session, account.id, window_start(tomorrow))
        assert recommended_item_ids(session, account.id, None, 2, now=tomorrow) == [
            PREFIX + "p1",
            PREFIX + "p2",
        ]
        # The window moves: 91 days on, both purchases have left it.
        later = NOW + dt.timedelta(days=WINDOW_DAYS + 1)
        assert build_snapshot(session, account.id, window_start(later))
        assert recommended_item_ids(session, account.id, None, 2, now=later) == []
