"""The snapshot of purchases is built by its job (`catalogs.snapshot_purchases`), never while a
message renders: rendering reads the latest one, and with none yet asks for it once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.catalogs.test_recommendations import PREFIX, Purchase, seed
from tests.conftest import make_account
from tidings import domains
from tidings.catalogs import jobs as catalog_jobs
from tidings.catalogs.recommendations import SNAPSHOT_JOB, recommended_item_ids, snapshot_window, window_start
from tidings.catalogs.tables import CatalogProductPopularity, CatalogPurchase, CatalogPurchaseSnapshot
from tidings.db.base import utcnow
from tidings.db.session import Database
from tidings.jobs.registry import JobContext
from tidings.jobs.tables import Job

SNAPSHOT_TABLES = ("catalog_purchases", "catalog_product_popularity", "catalog_purchase_snapshots")
PURCHASES = [
    Purchase("A", ("p1",), 2, True),
    Purchase("B", ("p1", "p2", "p3"), 3, True),
    Purchase("C", ("p1", "p2"), 3, False),
    Purchase("D", ("p5",), 1, True),
]
ITEMS = dict.fromkeys(["p1", "p2", "p3", "p4", "p5"], True)
CATEGORIES = {"boots": {"p1", "p4"}}


@contextmanager
def writes_to_snapshot(session: Session) -> Iterator[list[str]]:
    """The statements that write a snapshot table, while the block runs."""
    found: list[str] = []
    engine = session.get_bind()

    def watch(*args: Any) -> None:
        sql = str(args[2]).lstrip().upper()
        if sql.startswith(("INSERT", "UPDATE", "DELETE", "ANALYZE")) and any(
            t.upper() in sql for t in SNAPSHOT_TABLES
        ):
            found.append(sql)

    sa_event.listen(engine, "before_cursor_execute", watch)
    try:
        yield found
    finally:
        sa_event.remove(engine, "before_cursor_execute", watch)


def run_snapshot_job(session: Session, account_id: str) -> None:
    catalog_jobs.snapshot_purchases(session, JobContext("job", account_id, SNAPSHOT_JOB, {}, 1))


def snapshot_jobs(session: Session, account_id: str) -> int:
    return int(
        session.execute(
            select(func.count()).where(Job.account_id == account_id, Job.name == SNAPSHOT_JOB)
        ).scalar_one()
    )


def test_the_jobs_are_registered() -> None:
    names = {spec.name: spec for spec in domains.JOBS}
    assert SNAPSHOT_JOB in names
    assert names[catalog_jobs.SCHEDULE_SNAPSHOTS_JOB].every_seconds == catalog_jobs.SCHEDULE_SNAPSHOTS_SECONDS


def test_rendering_without_a_snapshot_builds_none_and_asks_for_one_once(db: Database) -> None:
    account = make_account(db)
    seed(db, account.id, purchases=PURCHASES, items=ITEMS, categories=CATEGORIES, now=utcnow())
    with db.write() as session, writes_to_snapshot(session) as writes:
        # No snapshot: only the items in the categories of what A bought (p4), none for nobody.
        assert recommended_item_ids(session, account.id, "A", 4) == [PREFIX + "p4"]
        assert recommended_item_ids(session, account.id, None, 4) == []
    assert writes == []
    with db.read() as session:
        assert snapshot_window(session, account.id) is None
        assert (
            session.execute(select(func.count()).where(CatalogPurchase.account_id == account.id)).scalar_one()
            == 0
        )
        assert snapshot_jobs(session, account.id) == 1  # asked for once, however many renders


def test_the_job_builds_it_once_a_day_and_the_next_render_reads_it(db: Database) -> None:
    account = make_account(db)
    seed(db, account.id, purchases=PURCHASES, items=ITEMS, categories=CATEGORIES, now=utcnow())
    with db.write() as session:
        run_snapshot_job(session, account.id)
    with db.write() as session:
        built = session.get(CatalogPurchaseSnapshot, account.id)
        assert built is not None and built.window_start is not None
        first_built_at = built.built_at
        assert snapshot_window(session, account.id) == window_start(utcnow())
    with db.write() as session, writes_to_snapshot(session) as writes:
        run_snapshot_job(session, account.id)  # the same day again: nothing rebuilt
    assert writes == []
    with db.write() as session, writes_to_snapshot(session) as writes:
        snapshots = session.execute(
            select(CatalogPurchaseSnapshot).where(CatalogPurchaseSnapshot.account_id == account.id)
        ).scalars()
        assert [s.built_at for s in snapshots] == [first_built_at]
        pairs = session.execute(
            select(func.count()).where(CatalogPurchase.account_id == account.id)
        ).scalar_one()
        assert pairs == 7  # A p1; B p1 p2 p3; C p1 p2; D p5
        popular = session.get(CatalogProductPopularity, (account.id, "p1"))
        assert popular is not None and popular.buyers == 3
        # The render reads it: co-purchase (p2, p3), category (p4), popularity (p5).
        assert recommended_item_ids(session, account.id, "A", 4) == [
            PREFIX + p for p in ("p2", "p3", "p4", "p5")
        ]
        assert snapshot_jobs(session, account.id) == 0  # a snapshot exists: nothing asked
    assert writes == []


def test_the_schedule_queues_one_job_per_account_due(db: Database) -> None:
    buyer = make_account(db)
    built = make_account(db)
    quiet = make_account(db)
    bare = make_account(db)  # no purchase metric at all
    for account in (buyer, built):
        seed(db, account.id, purchases=PURCHASES[:1], items={"p1": True}, categories={}, now=utcnow())
    seed(db, quiet.id, purchases=[], items={"p1": True}, categories={}, now=utcnow(), other_events=False)
    with db.write() as session:
        run_snapshot_job(session, built.id)
    context = JobContext("tick", "system", catalog_jobs.SCHEDULE_SNAPSHOTS_JOB, {}, 1)
    for _ in range(2):
        with db.write() as session:
            catalog_jobs.schedule_snapshots(session, context)
    with db.read() as session:
        # The seed makes the purchase metrics for every account, `quiet` included (an account
        # with the metrics but no purchase gets an empty snapshot); `built` is up to date.
        assert snapshot_jobs(session, buyer.id) == 1
        assert snapshot_jobs(session, built.id) == 0
        assert snapshot_jobs(session, quiet.id) == 1
        assert snapshot_jobs(session, bare.id) == 0
