"""Catalog background jobs: bulk jobs and scheduled feed syncs."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tidings.catalogs import bulk, feeds, sync
from tidings.db.base import utcnow
from tidings.jobs.registry import JobContext, job


def _apply_bulk(session: Session, context: JobContext) -> None:
    bulk.apply(session, context.account_id, str(context.payload["job_id"]))


@job("catalogs.sync_feeds", every_seconds=60)
def enqueue_due_feeds(session: Session, context: JobContext) -> None:
    sync.enqueue_due_feeds(session, utcnow())


@job("catalogs.sync_feed")
def sync_feed(session: Session, context: JobContext) -> None:
    """Download first (no transaction is open yet), then apply the whole feed in this job's
    transaction, so the sync and the job's completion commit together."""
    url = str(context.payload["url"])
    try:
        path = sync.download(url)
    except (OSError, ValueError) as exc:
        sync.finish_feed(session, context.account_id, f"failed: could not download the feed: {exc}", None)
        return
    summary = sync.SyncSummary()
    try:
        with path.open("rb") as raw:
            _counter, products = feeds.open_products(url, raw)
            for batch in sync.batches(products, summary, sync.BATCH_SIZE):
                sync.apply_batch(session, context.account_id, batch, summary)
                session.flush()
    except feeds.READ_ERRORS as exc:
        sync.finish_feed(
            session, context.account_id, f"failed after {summary.records} records: {exc}", summary
        )
        return
    finally:
        path.unlink(missing_ok=True)
    sync.finish_feed(session, context.account_id, "ok", summary)


JOBS = (*(job(kind.job_name)(_apply_bulk) for kind in bulk.KINDS), enqueue_due_feeds, sync_feed)
