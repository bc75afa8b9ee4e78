"""Applying product feeds: batched, idempotent upserts, and the per-account feed schedule.

A batch upserts its items, then their variants, categories and memberships, with
set-based statements (one round trip each). A row is rewritten only when a column differs,
so syncing the same feed twice changes nothing (not even `updated`). Price and inventory
changes are written to the history in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import queue as queue_module
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tidings.catalogs import history
from tidings.catalogs.feeds import Product
from tidings.catalogs.tables import (
    CatalogCategory,
    CatalogFeed,
    CatalogItem,
    CatalogItemCategory,
    CatalogVariant,
)
from tidings.db.base import utcnow
from tidings.db.dialect import Written, bulk_upsert
from tidings.jobs import queue
from tidings.jobs.tables import NETWORK_LANE
from tidings.outbound import client as outbound
from tidings.outbound.addresses import Policy, check_now
from tidings.outbound.client import OutboundFailed

SYNC_JOB = "catalogs.sync_feed"
BATCH_SIZE = 1000
MAX_REPORTED_ERRORS = 100
DEFAULT_INTERVAL = 6 * 3600  # Klaviyo resyncs custom catalog feeds every six hours

ITEM_COLUMNS = (
    "external_id", "title", "description", "url", "price", "image_full_url", "image_thumbnail_url",
    "images", "custom_metadata", "published",
)  # fmt: skip
VARIANT_COLUMNS = (
    "external_id", "item_id", "title", "description", "sku", "inventory_policy", "inventory_quantity",
    "price", "url", "image_full_url", "image_thumbnail_url", "images", "custom_metadata", "published",
)  # fmt: skip


@dataclass
class SyncSummary:
    records: int = 0
    items_created: int = 0
    items_updated: int = 0
    items_unchanged: int = 0
    variants_created: int = 0
    variants_updated: int = 0
    variants_unchanged: int = 0
    categories_created: int = 0
    failed: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (record number, message), capped

    def fail(self, record: int, message: str) -> None:
        self.failed += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append((record, message))

    def merge(self, other: SyncSummary) -> None:
        """Add the write counts of a batch applied separately (records and failures are counted
        where the feed is read)."""
        for name in (
            "items_created", "items_updated", "items_unchanged", "variants_created", "variants_updated",
            "variants_unchanged", "categories_created",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SyncSummary:
        """The summary `as_dict` gave (carried from one step of a scheduled sync to the next)."""
        counts = {k: int(v) for k, v in data.items() if k != "errors"}
        return cls(**counts, errors=[(e["record"], e["detail"]) for e in data.get("errors", [])])

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "errors"}
        data["errors"] = [{"record": r, "detail": m} for r, m in self.errors]
        return data


def batches(
    entries: Iterable[Product | tuple[int, str]], summary: SyncSummary, size: int
) -> Iterator[list[Product]]:
    """Group products into batches; bad records go straight to the summary."""
    batch: list[Product] = []
    for entry in entries:
        summary.records += 1
        if isinstance(entry, tuple):
            summary.fail(*entry)
            continue
        batch.append(entry)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def prefetch(batches: Iterator[list[Product]], depth: int = 2) -> Iterator[list[Product]]:
    """Read and parse the next batches in a thread while the caller writes this one: the
    database wait releases the GIL, so parsing and writing overlap."""
    slots: queue_module.Queue[Any] = queue_module.Queue(maxsize=depth)
    done = object()

    def produce() -> None:
        try:
            for batch in batches:
                slots.put(batch)
        except BaseException as exc:  # handed to the consumer, raised there
            slots.put(exc)
            return
        slots.put(done)

    threading.Thread(target=produce, name="tidings-feed-reader", daemon=True).start()
    while True:
        got = slots.get()
        if got is done:
            return
        if isinstance(got, BaseException):
            raise got
        yield got


def _upsert(
    session: Session,
    model: Any,
    rows: list[dict[str, Any]],
    columns: tuple[str, ...],
    tracked: tuple[str, ...],
    constants: dict[str, Any],
) -> list[Written]:
    """Insert or change rows; returns those written (new or different), with old tracked values."""
    return bulk_upsert(
        session,
        model.__table__,
        rows,
        index_elements=["account_id", "id"],
        update=[*columns, "updated"],
        compare=columns,
        returning="id",
        old=tracked,
        constants=constants,
    )


def apply_batch(session: Session, account_id: str, batch: list[Product], summary: SyncSummary) -> None:
    now = utcnow()
    stamps = {"account_id": account_id, "created": now, "updated": now}
    # Later records win over earlier ones with the same id (one row per id per statement);
    # rows go in id order, so concurrent batches lock shared rows in the same order.
    items = dict(sorted({p.item["id"]: p.item for p in batch}.items()))
    variants = dict(sorted({v["id"]: v for p in batch for v in p.variants}.items()))
    changes: list[history.Change] = []

    written = _upsert(session, CatalogItem, list(items.values()), ITEM_COLUMNS, history.TRACKED_ITEM, stamps)
    updated = [w for w in written if w.existed]
    summary.items_created += len(written) - len(updated)
    summary.items_updated += len(updated)
    summary.items_unchanged += len(items) - len(written)
    for w in updated:
        changes += history.diff("catalog-item", w.key, w.key, w.old, items[w.key])
    if variants:
        written = _upsert(
            session, CatalogVariant, list(variants.values()), VARIANT_COLUMNS, history.TRACKED_VARIANT, stamps
        )
        updated = [w for w in written if w.existed]
        summary.variants_created += len(written) - len(updated)
        summary.variants_updated += len(updated)
        summary.variants_unchanged += len(variants) - len(written)
        for w in updated:
            new = variants[w.key]
            changes += history.diff("catalog-variant", w.key, new["item_id"], w.old, new)
    history.record(session, account_id, changes, source="feed")

    categories = dict(sorted({cid: name for p in batch for cid, name in p.categories}.items()))
    if categories:
        rows = [
            {"id": cid, "external_id": cid.split(":::", 2)[2], "name": name}
            for cid, name in categories.items()
        ]
        created = bulk_upsert(
            session,
            CatalogCategory.__table__,  # type: ignore[arg-type]
            rows,
            index_elements=["account_id", "id"],
            returning="id",
            constants=stamps,
        )
        summary.categories_created += len(created)
        links = sorted({(p.item["id"], cid) for p in batch for cid, _name in p.categories})
        bulk_upsert(
            session,
            CatalogItemCategory.__table__,  # type: ignore[arg-type]
            [{"item_id": i, "category_id": c} for i, c in links],
            index_elements=["account_id", "item_id", "category_id"],
            constants={"account_id": account_id},
        )


# ------------------------------------------------------------------------------ sources


def open_source(
    source: str, *, timeout: float = 60.0, max_bytes: int = 1024**3, allow_private: bool = False
) -> tuple[IO[bytes], int | None]:
    """A local file or an http(s) URL as a byte stream, with its size when known. A URL is
    downloaded first, through the outbound guard (`tidings.outbound`)."""
    if source.startswith(("http://", "https://")):
        policy = Policy(allow_private=allow_private, timeout=timeout, max_bytes=max_bytes, redirects=5)
        try:
            path = outbound.download(
                source, policy, prefix="tidings-feed-", user_agent="tidings-catalog-sync"
            )
        except OutboundFailed as exc:
            raise ValueError(str(exc)) from None
        size = path.stat().st_size
        handle = path.open("rb")
        path.unlink()  # the file goes when the handle closes
        return handle, size
    if "://" in source:
        raise ValueError(f"Unsupported feed location {source!r}: use a file path or an http(s) URL.")
    path = Path(source)
    return path.open("rb"), path.stat().st_size


# ------------------------------------------------------------------------------ the schedule


def set_feed(
    session: Session,
    account_id: str,
    url: str,
    interval_seconds: int = DEFAULT_INTERVAL,
    *,
    allow_private: bool = False,
) -> CatalogFeed:
    """Raises ValueError (URLRefused among them: the guard's rules, checked now and at each
    download)."""
    if not url.startswith(("http://", "https://")):
        raise ValueError("A scheduled feed needs an http(s) URL.")
    check_now(url, Policy(allow_private=allow_private))
    if interval_seconds < 60:
        raise ValueError("The interval must be at least 60 seconds.")
    feed = session.get(CatalogFeed, account_id)
    now = utcnow()
    if feed is None:
        feed = CatalogFeed(account_id=account_id, created=now, enabled=True)
        session.add(feed)
    feed.url, feed.interval_seconds, feed.enabled, feed.updated = url, interval_seconds, True, now
    session.flush()
    return feed


def remove_feed(session: Session, account_id: str) -> bool:
    feed = session.get(CatalogFeed, account_id)
    if feed is None:
        return False
    session.delete(feed)
    session.flush()
    return True


def list_feeds(session: Session, account_id: str | None = None) -> list[CatalogFeed]:
    stmt = select(CatalogFeed).order_by(CatalogFeed.account_id)
    if account_id is not None:
        stmt = stmt.where(CatalogFeed.account_id == account_id)
    return list(session.execute(stmt).scalars())


def enqueue_due_feeds(session: Session, now: dt.datetime) -> int:
    """Queue a sync for every feed whose interval has passed (a system-wide scan, like job claims)."""
    due = 0
    for feed in session.execute(select(CatalogFeed).where(CatalogFeed.enabled.is_(True))).scalars():
        last = feed.last_started_at
        if last is not None and last + dt.timedelta(seconds=feed.interval_seconds) > now:
            continue
        feed.last_started_at, feed.last_status = now, "queued"
        queue.enqueue(
            session,
            SYNC_JOB,
            {"url": feed.url},
            account_id=feed.account_id,
            dedup_key=f"feed:{int(now.timestamp())}",
            max_attempts=3,
            lane=NETWORK_LANE,  # a download: a slow server must not hold up the default lane
        )
        due += 1
    session.flush()
    return due


def finish_feed(session: Session, account_id: str, status: str, summary: SyncSummary | None) -> None:
    session.execute(
        update(CatalogFeed)
        .where(CatalogFeed.account_id == account_id)
        .values(
            last_finished_at=utcnow(),
            last_status=status[:2000],
            last_summary=summary.as_dict() if summary else None,
        )
    )
