"""Recommended catalog items for a profile, from the account's purchases, in two statements.

The method (docs/COMPATIBILITY.md states it too):

- A *purchase* is a (profile, product id) pair: the `ProductID` of an `Ordered Product` event,
  or the `ProductID` of each element of a `Placed Order` event's `Items` (Klaviyo's documented
  ecommerce events). A product id names a catalog item by its external id. Counting distinct
  profiles, not events, keeps an order sent as both events from counting twice.
- What the person bought: every purchase of theirs, at any time (their own events, read
  through the profile index). Those items are never recommended (Klaviyo leaves out what the
  recipient already bought), nor unpublished items, nor the items of the triggering event.
- Everyone else's purchases are read over a bounded window (`WINDOW_DAYS`, Klaviyo's 90-day
  popularity period, from a UTC midnight), through a snapshot that a background job
  (`catalogs.snapshot_purchases`) builds once a day per account with purchase metrics
  (`catalog_purchases`: distinct (product, profile) pairs, keyed both ways;
  `catalog_product_popularity`: buyers per product). A message reads the latest snapshot
  there is, however old, through those keys, never the window's orders, and never builds
  one; purchases made since the snapshot count once the next one is built. With no snapshot
  yet (an account's first day), the job is queued and only tier (2) below is recommended.
- Ranking, in tiers: (1) co-purchase: items bought by the people alike (the other people who
  bought something the person bought; the `MAX_NEIGHBOURS` who bought the most of the same
  products, ties by profile id), scored by how many of them bought each; (2) items in the same
  categories as what the person bought; (3) every other item bought in the window. Within a
  tier: co-purchase score, then popularity (distinct buyers in the window), then item id, so
  the answer is deterministic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import String, case, delete, distinct, func, insert, literal, or_, select, true, union_all
from sqlalchemy.orm import Session

from tidings.catalogs import repository
from tidings.catalogs.ids import PREFIX
from tidings.catalogs.read_models import CatalogItemView
from tidings.catalogs.tables import (
    CatalogItem,
    CatalogItemCategory,
    CatalogProductPopularity,
    CatalogPurchase,
    CatalogPurchaseSnapshot,
)
from tidings.db.base import utcnow
from tidings.db.dialect import in_values, insert_ignore, json_array_field, json_text, refresh_statistics
from tidings.events.tables import Event, Metric
from tidings.jobs.queue import enqueue
from tidings.jobs.tables import Job

ORDERED_PRODUCT = "Ordered Product"  # one event per line item: properties.ProductID
PLACED_ORDER = "Placed Order"  # one event per order: properties.Items[].ProductID
WINDOW_DAYS = 90
MAX_RECOMMENDATIONS = 24
PRODUCT_ID_LENGTH = 255  # an external id's limit
# Co-purchase reads the purchases of at most so many people alike (bounded work per message).
MAX_NEIGHBOURS = 1000
SNAPSHOT_JOB = "catalogs.snapshot_purchases"


def window_start(now: dt.datetime, days: int = WINDOW_DAYS) -> dt.datetime:
    """The start of the window: midnight UTC `days` days before `now`'s day (one bound a day)."""
    day = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - dt.timedelta(days=days)


def _metric_ids(session: Session, account_id: str) -> tuple[list[str], list[str]]:
    rows = session.execute(
        select(Metric.id, Metric.name).where(
            Metric.account_id == account_id, Metric.name.in_([ORDERED_PRODUCT, PLACED_ORDER])
        )
    ).all()
    ordered = sorted(r.id for r in rows if r.name == ORDERED_PRODUCT)
    placed = sorted(r.id for r in rows if r.name == PLACED_ORDER)
    return ordered, placed


def _purchases(
    session: Session,
    account_id: str,
    ordered: list[str],
    placed: list[str],
    *,
    since: dt.datetime | None = None,
    profile_id: str | None = None,
) -> Any:
    """(profile_id, product_id) rows of the purchases in scope, as one UNION ALL."""

    def scope(*conditions: Any) -> list[Any]:
        out = [Event.account_id == account_id, *conditions]
        if since is not None:
            out.append(Event.time >= since)
        if profile_id is not None:
            out.append(Event.profile_id == profile_id)
        return out

    parts = []
    if ordered:
        product = json_text(session, Event.properties, "ProductID")
        parts.append(
            select(Event.profile_id.label("profile_id"), product.label("product_id")).where(
                *scope(Event.metric_id.in_(ordered), product.is_not(None))
            )
        )
    if placed:
        elements, product, is_array = json_array_field(session, Event.properties, "Items", "ProductID")
        parts.append(
            select(Event.profile_id.label("profile_id"), product.label("product_id"))
            .select_from(Event)
            .join(elements, true())
            .where(*scope(Event.metric_id.in_(placed), is_array, product.is_not(None)))
        )
    return parts[0] if len(parts) == 1 else union_all(*parts)


def snapshot_window(session: Session, account_id: str) -> dt.datetime | None:
    """The window start of the account's latest snapshot, or None when none was built yet.
    A plain read: rendering never waits for the job building the next one."""
    return session.execute(
        select(CatalogPurchaseSnapshot.window_start).where(CatalogPurchaseSnapshot.account_id == account_id)
    ).scalar()


def snapshot_key(since: dt.datetime) -> str:
    """The snapshot job's dedup key: one job per account and window (so per UTC day)."""
    return f"window:{since.date().isoformat()}"


def request_snapshot(session: Session, account_id: str, now: dt.datetime) -> None:
    """Ask for the account's snapshot of the window of `now`'s day, once (keyed by the day).
    Looks first, so a sender meeting a job already queued writes nothing."""
    key = snapshot_key(window_start(now))
    queued = session.execute(
        select(Job.id).where(Job.account_id == account_id, Job.name == SNAPSHOT_JOB, Job.dedup_key == key)
    ).first()
    if queued is None:
        enqueue(session, SNAPSHOT_JOB, account_id=account_id, dedup_key=key, max_attempts=5)


def accounts_due(session: Session, since: dt.datetime) -> list[str]:
    """The accounts with a purchase metric whose snapshot does not hold the window at `since`."""
    built = select(CatalogPurchaseSnapshot.account_id).where(
        CatalogPurchaseSnapshot.account_id == Metric.account_id,
        CatalogPurchaseSnapshot.window_start == since,
    )
    rows = session.execute(
        select(distinct(Metric.account_id))
        .where(Metric.name.in_([ORDERED_PRODUCT, PLACED_ORDER]), ~built.exists())
        .order_by(Metric.account_id)
    )
    return [row[0] for row in rows]


def build_snapshot(session: Session, account_id: str, since: dt.datetime) -> bool:
    """Make the account's purchase snapshot hold the window starting at `since` (a UTC
    midnight): kept if it already does (False), else rebuilt from the events in a few
    set-based statements (True). Run by the `catalogs.snapshot_purchases` job, never while a
    message renders: the statements take seconds on a large account (docs/BENCHMARKS.md),
    and readers keep reading the previous snapshot meanwhile (on PostgreSQL; on SQLite the
    job holds the database's write lock while it builds)."""
    if snapshot_window(session, account_id) == since:
        return False
    snapshot = _locked_snapshot(session, account_id)
    if snapshot.window_start == since:
        return False  # another job built it while this one waited
    ordered, placed = _metric_ids(session, account_id)
    session.execute(delete(CatalogPurchase).where(CatalogPurchase.account_id == account_id))
    session.execute(delete(CatalogProductPopularity).where(CatalogProductPopularity.account_id == account_id))
    if ordered or placed:
        window = _purchases(session, account_id, ordered, placed, since=since).subquery("window")
        pairs = (
            select(literal(account_id, String), window.c.product_id, window.c.profile_id)
            .where(func.length(window.c.product_id) <= PRODUCT_ID_LENGTH)
            .distinct()
        )
        session.execute(
            insert(CatalogPurchase).from_select(["account_id", "product_id", "profile_id"], pairs)
        )
        counts = (
            select(CatalogPurchase.account_id, CatalogPurchase.product_id, func.count())
            .where(CatalogPurchase.account_id == account_id)
            .group_by(CatalogPurchase.account_id, CatalogPurchase.product_id)
        )
        session.execute(
            insert(CatalogProductPopularity).from_select(["account_id", "product_id", "buyers"], counts)
        )
        # A rebuilt table keeps the statistics of the empty one until autovacuum: without them
        # the planner scanned every pair instead of looking up the neighbours' (measured 650 ms).
        refresh_statistics(session, CatalogPurchase.__table__)  # type: ignore[arg-type]
        refresh_statistics(session, CatalogProductPopularity.__table__)  # type: ignore[arg-type]
    snapshot.window_start = since
    snapshot.built_at = utcnow()
    session.flush()
    return True


def _locked_snapshot(session: Session, account_id: str) -> CatalogPurchaseSnapshot:
    session.execute(
        insert_ignore(session, CatalogPurchaseSnapshot.__table__, {"account_id": account_id})  # type: ignore[arg-type]
    )
    snapshot = session.get(CatalogPurchaseSnapshot, account_id, with_for_update=True, populate_existing=True)
    assert snapshot is not None
    return snapshot


def recommended_item_ids(
    session: Session,
    account_id: str,
    profile_id: str | None,
    count: int,
    *,
    exclude: Iterable[str] = (),
    now: dt.datetime | None = None,
    neighbours: int = MAX_NEIGHBOURS,
) -> list[str]:
    """The compound ids of up to `count` recommended items, best first (see the module doc).

    `exclude` holds product (external) ids left out besides the person's purchases: the items
    of the triggering event. A profile of None (a preview without a person) has no purchases.

    Reads the latest snapshot there is, however old, and never builds one. With none yet, the
    snapshot job is queued (`now`'s day names it; the only write, and only then) and the
    answer is what needs no snapshot: items in the categories of what the person bought.
    """
    count = max(0, min(int(count), MAX_RECOMMENDATIONS))
    if count == 0:
        return []
    has_snapshot = snapshot_window(session, account_id) is not None
    if not has_snapshot:
        request_snapshot(session, account_id, now or utcnow())
    bought = CatalogPurchase
    if profile_id is not None:
        ordered, placed = _metric_ids(session, account_id)
        if ordered or placed:
            own = _purchases(session, account_id, ordered, placed, profile_id=profile_id).subquery("own")
            mine = select(distinct(own.c.product_id).label("product_id")).cte("mine")
        else:
            mine = _nothing()
    else:
        mine = _nothing()
    # The people most alike: those who bought the most of the same products (ties by id). Read
    # first, so the next statement looks their purchases up by key: as a subquery, PostgreSQL
    # estimated ten times as many and scanned every pair instead (measured: 400 ms against 80).
    alike: list[str] = []
    if profile_id is not None and has_snapshot:
        alike = [
            row[0]
            for row in session.execute(
                select(bought.profile_id)
                .where(
                    bought.account_id == account_id,
                    bought.product_id.in_(select(mine.c.product_id)),
                    bought.profile_id != profile_id,
                )
                .group_by(bought.profile_id)
                .order_by(func.count().desc(), bought.profile_id)
                .limit(max(1, neighbours))
            )
        ]
    co_rows = select(bought.product_id, func.count().label("score"))
    if alike:
        co_rows = co_rows.where(bought.account_id == account_id, in_values(session, bought.profile_id, alike))
    else:
        co_rows = co_rows.where(literal(False))
    co = co_rows.group_by(bought.product_id).cte("co")
    popularity = CatalogProductPopularity
    mine_items = select(literal(PREFIX) + mine.c.product_id)
    categories = select(CatalogItemCategory.category_id).where(
        CatalogItemCategory.account_id == account_id, CatalogItemCategory.item_id.in_(mine_items)
    )
    same_category = select(CatalogItemCategory.item_id).where(
        CatalogItemCategory.account_id == account_id, CatalogItemCategory.category_id.in_(categories)
    )
    score = func.coalesce(co.c.score, 0)
    buyers = func.coalesce(popularity.buyers, 0)
    in_category = CatalogItem.id.in_(same_category)
    tier = case((score > 0, 0), (in_category, 1), else_=2)
    excluded = sorted({str(x) for x in exclude if x not in (None, "")})
    query = (
        select(CatalogItem.id)
        .select_from(CatalogItem)
        .outerjoin(co, co.c.product_id == CatalogItem.external_id)
        .outerjoin(
            popularity,
            (popularity.account_id == CatalogItem.account_id)
            & (popularity.product_id == CatalogItem.external_id),
        )
        .where(
            CatalogItem.account_id == account_id,
            CatalogItem.published.is_(True),
            CatalogItem.external_id.not_in(select(mine.c.product_id)),
            or_(score > 0, buyers > 0, in_category),
            *([CatalogItem.external_id.not_in(excluded)] if excluded else []),
        )
        .order_by(tier, score.desc(), buyers.desc(), CatalogItem.id)
        .limit(count)
    )
    return [row[0] for row in session.execute(query)]


def _nothing() -> Any:
    return select(literal("", String).label("product_id")).where(literal(False)).cte("mine")


def items_by_ids(session: Session, account_id: str, item_ids: Sequence[str]) -> list[CatalogItemView]:
    """The items, in the order given, with variants and category names: three queries in all."""
    if not item_ids:
        return []
    items = {
        item.id: item
        for item in session.execute(
            select(CatalogItem).where(
                CatalogItem.account_id == account_id, CatalogItem.id.in_(list(item_ids))
            )
        ).scalars()
    }
    found = [i for i in item_ids if i in items]
    variants = repository.variants_of_items(session, account_id, found)
    names = repository.category_names_of_items(session, account_id, found)
    return [CatalogItemView.of(items[i], variants[i], names[i]) for i in found]


def recommend(
    session: Session,
    account_id: str,
    profile_id: str | None,
    count: int,
    *,
    exclude: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> list[CatalogItemView]:
    """Up to `count` recommended items for the profile, as the templates' product block shows them."""
    ids = recommended_item_ids(session, account_id, profile_id, count, exclude=exclude, now=now)
    return items_by_ids(session, account_id, ids)


def event_product_ids(properties: Any) -> list[str]:
    """The product ids an event names (`ProductID`, `Items[].ProductID`, and Shopify's
    `$extra.line_items[].product_id`): what a message about that event does not recommend."""
    if not hasattr(properties, "get"):
        return []
    found: list[Any] = [properties.get("ProductID")]
    items = properties.get("Items")
    if isinstance(items, list | tuple):
        found.extend(i.get("ProductID") for i in items if hasattr(i, "get"))
    extra = properties.get("$extra") or properties.get("extra")
    lines = extra.get("line_items") if hasattr(extra, "get") else None
    if isinstance(lines, list | tuple):
        found.extend(i.get("product_id") for i in lines if hasattr(i, "get"))
    return [str(x) for x in found if x not in (None, "") and not isinstance(x, dict | list)]
