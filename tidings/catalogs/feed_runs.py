"""A scheduled feed sync, in steps that each commit with their job.

1. `catalogs.sync_feed` (network lane): download the feed within an overall deadline and a
   byte limit, and parse it, before any transaction opens; then stage its products in chunks
   (`catalog_feed_chunks`) and queue the first apply step, in one transaction with the job.
2. `catalogs.apply_feed` (default lane): apply one chunk, delete it, and queue the next step
   with the summary so far, or finish the feed after the last chunk. A step that fails rolls
   back and is retried alone; the steps before it stay applied, so a sync resumes where it
   stopped and no worker holds one job (or one transaction) for the whole feed.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import IO, Any

from sqlalchemy import delete, insert, update
from sqlalchemy.orm import Session

from tidings.catalogs import feeds, sync
from tidings.catalogs.feeds import Product
from tidings.catalogs.tables import CatalogFeed, CatalogFeedChunk
from tidings.db.base import utcnow
from tidings.jobs import queue
from tidings.outbound import client as outbound
from tidings.outbound.addresses import Policy, URLRefused
from tidings.outbound.client import OutboundFailed

APPLY_JOB = "catalogs.apply_feed"
CHUNK_SIZE = sync.BATCH_SIZE  # products per apply step
FEED_REDIRECTS = 5  # each one checked by the guard like the first URL
USER_AGENT = "tidings-catalog-sync"
STALE_CHUNKS = dt.timedelta(days=7)  # chunks of a run abandoned (its step dead) this long are deleted


class DownloadError(ValueError):
    """The feed could not be downloaded (unreachable, an HTTP error, too slow or too large)."""


# ------------------------------------------------------------------------------ downloading


def download(url: str, *, max_bytes: int, timeout: float, allow_private: bool = False) -> Path:
    """The feed in a temporary file (the caller deletes it), through the outbound guard
    (`tidings.outbound`): `timeout` bounds the whole transfer, however the server paces its
    bytes; a larger body than `max_bytes` is refused; redirects are followed only to addresses
    the guard allows."""
    policy = Policy(
        allow_private=allow_private, timeout=timeout, max_bytes=max_bytes, redirects=FEED_REDIRECTS
    )
    suffix = Path(url.split("?")[0]).suffix
    try:
        return outbound.download(url, policy, prefix="tidings-feed-", suffix=suffix, user_agent=USER_AGENT)
    except (URLRefused, OutboundFailed) as exc:
        raise DownloadError(str(exc)) from None


# ------------------------------------------------------------------------------ step 1


def download_and_stage(
    session: Session,
    account_id: str,
    run_id: str,
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    allow_private: bool = False,
) -> None:
    """Step 1. Everything before the staging runs with no transaction open."""
    try:
        path = download(url, max_bytes=max_bytes, timeout=timeout, allow_private=allow_private)
    except DownloadError as exc:
        sync.finish_feed(session, account_id, f"failed: could not download the feed: {exc}", None)
        return
    summary = sync.SyncSummary()
    try:
        with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
            try:
                chunks = _parse(url, path, summary, spool)
            except feeds.READ_ERRORS as exc:
                sync.finish_feed(
                    session, account_id, f"failed after {summary.records} records: {exc}", summary
                )
                return
            _stage(session, account_id, run_id, spool)
    finally:
        path.unlink(missing_ok=True)
    if not chunks:
        sync.finish_feed(session, account_id, "ok", summary)
        return
    _progress(session, account_id, 0, chunks)
    _enqueue_step(session, account_id, run_id, 0, chunks, summary)


def _parse(url: str, path: Path, summary: sync.SyncSummary, spool: IO[str]) -> int:
    """The feed's products as JSON lines of up to CHUNK_SIZE each in `spool`; returns how many."""
    count = 0
    with path.open("rb") as raw:
        _counter, products = feeds.open_products(url, raw)
        for batch in sync.batches(products, summary, CHUNK_SIZE):
            spool.write(json.dumps([_row(p) for p in batch]) + "\n")
            count += 1
    return count


def _stage(session: Session, account_id: str, run_id: str, spool: IO[str]) -> None:
    spool.seek(0)
    now = utcnow()
    for seq, line in enumerate(spool):
        session.execute(
            insert(CatalogFeedChunk).values(
                account_id=account_id, run_id=run_id, seq=seq, products=line.rstrip("\n"), created=now
            )
        )


def _row(product: Product) -> list[Any]:
    return [product.record, product.item, product.variants, product.categories]


def _product(row: list[Any]) -> Product:
    record, item, variants, categories = row
    return Product(record, item, variants, [(cid, name) for cid, name in categories])


# ------------------------------------------------------------------------------ step 2


def _enqueue_step(
    session: Session, account_id: str, run_id: str, seq: int, chunks: int, summary: sync.SyncSummary
) -> None:
    queue.enqueue(
        session,
        APPLY_JOB,
        {"run_id": run_id, "seq": seq, "chunks": chunks, "summary": summary.as_dict()},
        account_id=account_id,
        dedup_key=f"{run_id}:{seq}",
        max_attempts=5,
    )


def apply_step(session: Session, account_id: str, payload: dict[str, Any]) -> None:
    """Step 2: apply chunk `seq` of the run and delete it; queue the next, or finish the feed."""
    run_id, seq, chunks = str(payload["run_id"]), int(payload["seq"]), int(payload["chunks"])
    summary = sync.SyncSummary.from_dict(payload["summary"])
    chunk = session.get(CatalogFeedChunk, (account_id, run_id, seq))
    if chunk is None:
        status = f"failed: batch {seq + 1} of {chunks} is gone (its run was abandoned)"
        sync.finish_feed(session, account_id, status, summary)
        return
    sync.apply_batch(session, account_id, [_product(row) for row in json.loads(chunk.products)], summary)
    session.delete(chunk)
    if seq + 1 < chunks:
        _progress(session, account_id, seq + 1, chunks)
        _enqueue_step(session, account_id, run_id, seq + 1, chunks, summary)
    else:
        sync.finish_feed(session, account_id, "ok", summary)


def _progress(session: Session, account_id: str, applied: int, chunks: int) -> None:
    session.execute(
        update(CatalogFeed)
        .where(CatalogFeed.account_id == account_id)
        .values(last_status=f"applying: {applied} of {chunks} batches done")
    )


def prune_chunks(session: Session, now: dt.datetime) -> int:
    """Delete the chunks of runs abandoned long ago (a step that went dead and was not retried)."""
    result = session.execute(delete(CatalogFeedChunk).where(CatalogFeedChunk.created < now - STALE_CHUNKS))
    return int(result.rowcount)  # type: ignore[attr-defined]
